/**
 * `npm start`: a narrated, in-process tour of edakit on the memory transport.
 * Three services share one broker: orders publish, inventory and payment react.
 * One order goes through; one is charged on a card that fails and ends in the
 * dead-letter queue; one old v1 event is read by a v2 consumer.
 */
import { z } from 'zod';
import {
  createBus,
  defineEvent,
  InMemoryTransport,
  idempotency,
  MemoryBroker,
  MemoryIdempotencyStore,
  NonRetryableError,
  on,
} from './index';

const OrderPlacedV1 = defineEvent({
  type: 'order.placed',
  schema: z.object({
    orderId: z.string(),
    sku: z.string(),
    quantity: z.number().int().positive(),
    total: z.number(),
  }),
  description: 'A customer placed an order (v1: no currency)',
  partitionKey: (order) => order.orderId,
});
const OrderPlaced = OrderPlacedV1.evolve({
  schema: OrderPlacedV1.schema.extend({ currency: z.string().length(3) }),
  upcast: (v1) => ({ ...v1, currency: 'USD' }),
  description: 'A customer placed an order',
  partitionKey: (order) => order.orderId,
});
const StockReserved = defineEvent({
  type: 'inventory.reserved',
  schema: z.object({ orderId: z.string(), sku: z.string(), left: z.number().int() }),
  description: 'Stock was set aside for an order',
});
const PaymentCharged = defineEvent({
  type: 'payment.charged',
  schema: z.object({ orderId: z.string(), amount: z.number(), currency: z.string() }),
  description: 'The customer was charged',
});

const say = (who: string, text: string) => console.log(`  ${who.padEnd(10)} ${text}`);
const broker = new MemoryBroker();
const service = (name: string) =>
  createBus({ transport: new InMemoryTransport({ broker }), source: `/services/${name}` });

async function main(): Promise<void> {
  console.log('edakit embedded demo: three services on one in-memory broker\n');
  const orders = service('orders');
  const inventory = service('inventory');
  const payment = service('payment');
  const stock = new Map([
    ['book', 10],
    ['pen', 10],
  ]);

  inventory.subscribe({
    group: 'inventory',
    middleware: [idempotency({ store: new MemoryIdempotencyStore() })],
    handlers: [
      on(OrderPlaced, async (event, ctx) => {
        const left = (stock.get(event.data.sku) ?? 0) - event.data.quantity;
        stock.set(event.data.sku, left);
        say(
          'inventory',
          `reserved ${event.data.quantity} ${event.data.sku} for ${event.data.orderId} (${left} left)`,
        );
        await ctx.publish(StockReserved, {
          orderId: event.data.orderId,
          sku: event.data.sku,
          left,
        });
      }),
    ],
  });
  payment.subscribe({
    group: 'payment',
    retry: { immediate: 1, delayed: [50, 100] },
    handlers: [
      on(OrderPlaced, async (event, ctx) => {
        const { orderId, total, currency } = event.data;
        if (total > 1000) {
          say('payment', `card declined for ${orderId} (attempt ${ctx.attempt})`);
          if (ctx.attempt >= 3) throw new NonRetryableError(`card declined for ${orderId}`);
          throw new Error('card network timeout');
        }
        say(
          'payment',
          `charged ${total} ${currency} for ${orderId} (v${ctx.receivedVersion} event read as v${event.dataversion})`,
        );
        await ctx.publish(PaymentCharged, { orderId, amount: total, currency });
      }),
    ],
  });
  orders.subscribe({
    group: 'orders',
    handlers: [
      on(PaymentCharged, (event) =>
        say(
          'orders',
          `${event.data.orderId} is paid (payment.charged ${tail(event.id)}, caused by ${tail(event.causationid)}, correlation ${tail(event.correlationid)})`,
        ),
      ),
    ],
  });
  await Promise.all([orders.start(), inventory.start(), payment.start()]);

  console.log('1. An order that goes through');
  const first = orders.prepare(OrderPlaced, {
    orderId: 'o-1',
    sku: 'book',
    quantity: 1,
    total: 30,
    currency: 'EUR',
  });
  say('orders', `placing o-1: order.placed ${tail(first.envelope.id)}`);
  await orders.publishBatch([first]);
  await settle();

  console.log('\n2. An order whose card keeps failing: retried, then dead-lettered');
  console.log("   (undoing its stock reservation is a saga's job: see @edakit/saga)");
  say('orders', 'placing o-2');
  await orders.publish(OrderPlaced, {
    orderId: 'o-2',
    sku: 'book',
    quantity: 1,
    total: 5000,
    currency: 'EUR',
  });
  await settle(400);
  const [deadLetter] = await new InMemoryTransport({ broker }).listDeadLetters({
    group: 'payment',
  });
  say(
    'dlq',
    `${deadLetter?.info.reason}: "${deadLetter?.info.errorMessage}" after ${deadLetter?.info.attempts} attempts`,
  );

  console.log('\n3. An old v1 event (no currency) still in the log, read by v2 consumers');
  say('orders', 'placing o-3 with the v1 contract');
  await orders.publish(OrderPlacedV1, { orderId: 'o-3', sku: 'pen', quantity: 1, total: 2 });
  await settle();

  console.log('\n4. The same event delivered twice: inventory, with the idempotency');
  console.log('   middleware, reserves once; payment, without it, charges twice');
  const again = orders.prepare(OrderPlaced, {
    orderId: 'o-4',
    sku: 'book',
    quantity: 1,
    total: 30,
    currency: 'EUR',
  });
  say('orders', `placing o-4: order.placed ${tail(again.envelope.id)}, sent twice`);
  await orders.publishBatch([again]);
  await orders.publishBatch([again]);
  await settle();
  say('inventory', `books left: ${stock.get('book')} (10, minus o-1, o-2 and o-4 once)`);

  await Promise.all([orders.stop(), inventory.stop(), payment.stop()]);
  console.log('\nDone. Read packages/core/README.md to build your own.');
}

/** The random end of a UUIDv7 (its start is the time, alike for ids made together). */
function tail(id: string | undefined): string {
  return `…${id?.slice(-8) ?? '?'}`;
}

function settle(ms = 100): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
