// A realistic catalog for the catalog unit tests: a v1 -> v2 -> v3 order event with
// nested objects, arrays of objects, enums, optional and defaulted fields, and a command.
import { z } from 'zod';
import { defineCatalog } from '../../src/catalog/define-catalog';
import { defineEvent } from '../../src/contract/define-event';

const Money = z
  .object({ amount: z.number().nonnegative(), currency: z.string().length(3) })
  .meta({ id: 'Money' });

export const OrderPlacedV1 = defineEvent({
  type: 'order.placed',
  schema: z.object({ orderId: z.string(), total: z.number() }),
  description: 'A customer placed an order',
  partitionKey: (order) => order.orderId,
});

export const OrderPlacedV2 = OrderPlacedV1.evolve({
  schema: z.object({ orderId: z.string(), total: z.number(), currency: z.string().length(3) }),
  upcast: (v1) => ({ ...v1, currency: 'USD' }),
  partitionKey: (order) => order.orderId,
});

export const OrderPlaced = OrderPlacedV2.evolve({
  schema: z.object({
    orderId: z.uuid(),
    customer: z
      .object({ id: z.string().min(1), email: z.email().optional() })
      .describe('Who placed the order'),
    items: z
      .array(
        z.object({
          sku: z.string().min(3).max(20),
          quantity: z.int().positive(),
          price: Money,
        }),
      )
      .min(1),
    status: z.enum(['pending', 'paid']),
    currency: z.string().length(3).default('USD'),
    note: z.string().nullable().optional(),
    payment: z.discriminatedUnion('method', [
      z.object({ method: z.literal('card'), last4: z.string().length(4) }),
      z.object({ method: z.literal('invoice'), dueDays: z.int().min(1).max(90) }),
    ]),
  }),
  upcast: ({ orderId, total, currency }) => ({
    orderId,
    customer: { id: 'unknown' },
    items: [{ sku: 'legacy', quantity: 1, price: { amount: total, currency } }],
    status: 'paid' as const,
    currency,
    payment: { method: 'invoice' as const, dueDays: 30 },
  }),
  partitionKey: (order) => order.orderId,
});

export const PaymentRequested = defineEvent({
  type: 'payment.requested',
  schema: z.object({ orderId: z.uuid(), amount: z.number().positive() }),
  description: 'Billing asks payment to charge an order',
  channel: 'payments',
});

export const PaymentCaptured = defineEvent({
  type: 'payment.captured',
  schema: z.object({ orderId: z.uuid(), amount: z.number().positive() }),
  description: 'Payment charged the order',
  channel: 'payments',
});

export const shop = defineCatalog({
  title: 'Shop events',
  version: '2.1.0',
  description: 'What the shop services tell each other.',
  events: [
    {
      contract: OrderPlaced,
      producer: 'checkout',
      consumers: ['billing', 'Shipping Service'],
      changes: {
        2: 'Adds `currency`; v1 orders were in USD',
        3: 'Line items, customer and payment; `total` moves into the items',
      },
    },
    {
      contract: PaymentRequested,
      producer: 'billing',
      consumers: ['payments'],
      kind: 'command',
      example: { orderId: '0190a6c4-9a0e-7cc2-8f5e-3b8a5f1d2c3e', amount: 42.5 },
    },
    { contract: PaymentCaptured, producer: 'payments', consumers: ['billing'], kind: 'reply' },
  ],
});
