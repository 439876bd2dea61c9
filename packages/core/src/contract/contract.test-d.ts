import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { createBus } from '../bus/create-bus';
import type { EventEnvelope } from '../envelope/event-envelope';
import { type ConsumedEvent, type HandlerContext, on } from '../handler/handler';
import { InMemoryTransport } from '../memory/in-memory-transport';
import { defineEvent } from './define-event';
import type { EventData, EventInput } from './event-contract';

const OrderCreated = defineEvent({
  type: 'order.created',
  schema: z.object({ orderId: z.string(), total: z.number(), currency: z.string().default('USD') }),
  description: 'placed',
});
const ProductCreated = defineEvent({
  type: 'product.created',
  schema: z.object({ productId: z.string(), name: z.string() }),
  description: 'added',
});
const bus = createBus({ transport: new InMemoryTransport(), source: '/t' });

describe('contract types', () => {
  it('infers the type name as a literal and the data from the schema', () => {
    expectTypeOf(OrderCreated.type).toEqualTypeOf<'order.created'>();
    expectTypeOf<EventData<typeof OrderCreated>>().toEqualTypeOf<{
      orderId: string;
      total: number;
      currency: string;
    }>();
    // Input before defaults: currency may be left out when publishing.
    expectTypeOf<EventInput<typeof OrderCreated>>().toEqualTypeOf<{
      orderId: string;
      total: number;
      currency?: string | undefined;
    }>();
  });

  it('publishing the wrong shape does not compile', () => {
    void bus.publish(OrderCreated, { orderId: 'o', total: 1 });
    // @ts-expect-error total must be a number
    void bus.publish(OrderCreated, { orderId: 'o', total: '1' });
    // @ts-expect-error orderId is required
    void bus.publish(OrderCreated, { total: 1 });
    // @ts-expect-error a product is not an order
    void bus.publish(OrderCreated, { productId: 'p', name: 'n' });
    void bus.prepare(ProductCreated, { productId: 'p', name: 'n' });
    // @ts-expect-error prepare checks the shape too
    void bus.prepare(ProductCreated, { productId: 1, name: 'n' });
  });

  it('publish resolves with a typed envelope', () => {
    expectTypeOf(bus.publish(OrderCreated, { orderId: 'o', total: 1 })).resolves.toEqualTypeOf<
      EventEnvelope<{ orderId: string; total: number; currency: string }, 'order.created'>
    >();
  });

  it('handlers receive the contract data, and a handler of another contract does not compile', () => {
    on(OrderCreated, (event, context) => {
      expectTypeOf(event.data.currency).toEqualTypeOf<string>();
      expectTypeOf(event.type).toEqualTypeOf<'order.created'>();
      expectTypeOf(context).toEqualTypeOf<HandlerContext>();
    });
    const handleProduct = async (_event: ConsumedEvent<typeof ProductCreated>) => {};
    // @ts-expect-error a product handler cannot handle orders
    on(OrderCreated, handleProduct);
    on(OrderCreated, async (event) => {
      // @ts-expect-error orders have no productId
      void event.data.productId;
    });
    bus.subscribe({
      group: 'g',
      handlers: [on(OrderCreated, () => {}), on(ProductCreated, async () => {})],
    });
  });

  it('ctx.publish is typed like bus.publish', () => {
    on(OrderCreated, async (_event, context) => {
      await context.publish(ProductCreated, { productId: 'p', name: 'n' });
      // @ts-expect-error wrong shape through the context too
      await context.publish(ProductCreated, { productId: 'p' });
    });
  });

  it('evolve() types the upcaster from the previous version to the next', () => {
    const V2 = OrderCreated.evolve({
      schema: z.object({ orderId: z.string(), amount: z.number(), currency: z.string() }),
      upcast: (v1) => {
        expectTypeOf(v1).toEqualTypeOf<{ orderId: string; total: number; currency: string }>();
        return { orderId: v1.orderId, amount: v1.total, currency: v1.currency };
      },
    });
    expectTypeOf<EventData<typeof V2>>().toEqualTypeOf<{
      orderId: string;
      amount: number;
      currency: string;
    }>();
    expectTypeOf(V2.type).toEqualTypeOf<'order.created'>();
    OrderCreated.evolve({
      schema: z.object({ orderId: z.string(), amount: z.number() }),
      // @ts-expect-error the upcaster must return the new version's input
      upcast: (v1) => ({ orderId: v1.orderId, total: v1.total }),
    });
  });

  it('partitionKey receives the typed data', () => {
    defineEvent({
      type: 'a.b',
      schema: z.object({ id: z.string() }),
      description: 'x',
      partitionKey: (data) => {
        expectTypeOf(data).toEqualTypeOf<{ id: string }>();
        return data.id;
      },
    });
  });
});
