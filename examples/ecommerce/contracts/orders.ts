import { defineEvent } from '@edakit/core';
import { z } from 'zod';
import { byOrder, currency, id, money, orderLines } from './fields';

const placed = { orderId: id, customerId: id, lines: orderLines, total: money };

/** v1: the shop sold in euros only, so orders carried no currency. */
export const OrderCreatedV1 = defineEvent({
  type: 'order.created',
  description: 'A customer placed an order.',
  schema: z.object(placed),
  partitionKey: byOrder,
});

/** v2: orders name their currency; v1 orders still in the log are read as euros. */
export const OrderCreated = OrderCreatedV1.evolve({
  schema: z.object({ ...placed, currency }),
  upcast: (v1) => ({ ...v1, currency: 'EUR' }),
  partitionKey: byOrder,
});

export const orderStatus = z.enum(['processing', 'shipped', 'delivered']);
export type OrderStatus = z.infer<typeof orderStatus>;

export const OrderUpdated = defineEvent({
  type: 'order.updated',
  description:
    'An order moved on: processing (paid), shipped (handed to the carrier) or delivered.',
  schema: z.object({ orderId: id, status: orderStatus }),
  partitionKey: byOrder,
});

export const OrderCancelled = defineEvent({
  type: 'order.cancelled',
  description: 'An order was given up; what was reserved or charged for it has been undone.',
  schema: z.object({ orderId: id, reason: z.string().min(1) }),
  partitionKey: byOrder,
});
