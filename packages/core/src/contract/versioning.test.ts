import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseWireMessage, toEnvelope } from '../codec/decode';
import { encodeEnvelope } from '../codec/encode';
import { createEnvelope } from '../envelope/create-envelope';
import { ErrorCodes } from '../errors/error-codes';
import { defineEvent } from './define-event';
import type { AnyEventContract, EventInput } from './event-contract';
import { validate } from './validate';

// The classic evolution of order.created:
// v1 had no currency; v2 adds currency (old orders were USD); v3 renames total -> amount.
const OrderCreatedV1 = defineEvent({
  type: 'order.created',
  schema: z.object({ orderId: z.string(), total: z.number() }),
  description: 'A customer placed an order',
});
const OrderCreatedV2 = OrderCreatedV1.evolve({
  schema: z.object({ orderId: z.string(), total: z.number(), currency: z.string().length(3) }),
  upcast: (v1) => ({ ...v1, currency: 'USD' }),
});
const OrderCreatedV3 = OrderCreatedV2.evolve({
  schema: z.object({ orderId: z.string(), amount: z.number(), currency: z.string().length(3) }),
  upcast: ({ total, ...rest }) => ({ ...rest, amount: total }),
});

function wire<C extends AnyEventContract>(contract: C, data: EventInput<C>) {
  return encodeEnvelope(createEnvelope(contract, validate(contract, data), '/test'));
}

describe('upcasting through the version chain', () => {
  it('reads a v1 event as v3: currency defaults to USD, total becomes amount', () => {
    const event = toEnvelope(
      parseWireMessage(wire(OrderCreatedV1, { orderId: 'o-1', total: 12.5 })),
      OrderCreatedV3,
    );
    expect(event.data).toEqual({ orderId: 'o-1', amount: 12.5, currency: 'USD' });
    expect(event.dataversion).toBe(3);
  });

  it('reads a v2 event as v3, keeping its currency', () => {
    const message = wire(OrderCreatedV2, { orderId: 'o-2', total: 3, currency: 'EUR' });
    const event = toEnvelope(parseWireMessage(message), OrderCreatedV3);
    expect(event.data).toEqual({ orderId: 'o-2', amount: 3, currency: 'EUR' });
  });

  it('reads a v3 event as v3 unchanged', () => {
    const message = wire(OrderCreatedV3, { orderId: 'o-3', amount: 1, currency: 'GBP' });
    expect(toEnvelope(parseWireMessage(message), OrderCreatedV3).data).toEqual({
      orderId: 'o-3',
      amount: 1,
      currency: 'GBP',
    });
  });

  it('refuses a newer version than the consumer knows (EDAKIT_UNSUPPORTED_VERSION)', () => {
    const message = wire(OrderCreatedV3, { orderId: 'o', amount: 1, currency: 'GBP' });
    expect(() => toEnvelope(parseWireMessage(message), OrderCreatedV2)).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.UNSUPPORTED_VERSION,
        version: 3,
        supported: 2,
        context: expect.objectContaining({ eventType: 'order.created', path: 'dataversion' }),
      }),
    );
  });

  it('checks old data against its own schema before upcasting, naming the failing path', () => {
    const message = {
      ...wire(OrderCreatedV1, { orderId: 'o', total: 1 }),
      body: Buffer.from(JSON.stringify({ orderId: 'o', total: 'ten' })),
    };
    expect(() => toEnvelope(parseWireMessage(message), OrderCreatedV3)).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.VALIDATION_FAILED,
        context: expect.objectContaining({ path: 'total', version: 1 }),
      }),
    );
  });

  it('validates the upcast result against the latest schema', () => {
    const Broken = OrderCreatedV1.evolve({
      schema: z.object({ orderId: z.string(), currency: z.string().length(3) }),
      upcast: (v1) => ({ orderId: v1.orderId, currency: 'dollars' }),
    });
    const message = wire(OrderCreatedV1, { orderId: 'o', total: 1 });
    expect(() => toEnvelope(parseWireMessage(message), Broken)).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.VALIDATION_FAILED,
        issues: [expect.objectContaining({ path: 'currency' })],
      }),
    );
  });

  it('wraps an upcaster that throws in EDAKIT_UPCAST_FAILED with the cause', () => {
    const cause = new Error('cannot convert');
    const Throwing = OrderCreatedV1.evolve({
      schema: OrderCreatedV1.schema,
      upcast: () => {
        throw cause;
      },
    });
    const message = wire(OrderCreatedV1, { orderId: 'o', total: 1 });
    expect(() => toEnvelope(parseWireMessage(message), Throwing)).toThrowError(
      expect.objectContaining({ code: ErrorCodes.UPCAST_FAILED, cause }),
    );
  });

  it('supports upcasters given as a record, for contracts without typed history', () => {
    const Record3 = defineEvent({
      type: 'order.created',
      version: 3,
      schema: OrderCreatedV3.schema,
      description: 'x',
      upcasters: {
        1: (data) => ({ ...data, currency: 'USD' }),
        2: ({ total, ...rest }) => ({ ...rest, amount: total }),
      },
    });
    const event = toEnvelope(
      parseWireMessage(wire(OrderCreatedV1, { orderId: 'o', total: 2 })),
      Record3,
    );
    expect(event.data).toEqual({ orderId: 'o', amount: 2, currency: 'USD' });
  });
});
