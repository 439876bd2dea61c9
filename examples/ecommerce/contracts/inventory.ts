import { defineEvent } from '@edakit/core';
import { z } from 'zod';
import { byOrder, byProduct, id, quantity } from './fields';

export const InventoryUpdated = defineEvent({
  type: 'inventory.updated',
  description:
    'The stock of a product changed (stocked, reserved for an order, released); lowStock raises the alert.',
  schema: z.object({
    productId: id,
    stock: z.number().int().nonnegative(),
    change: z.number().int(),
    reason: z.enum(['stocked', 'reserved', 'released']),
    lowStock: z.boolean(),
    orderId: id.optional(),
  }),
  partitionKey: byProduct,
});

const lines = z.array(z.object({ productId: id, quantity })).min(1);

export const ReserveInventory = defineEvent({
  type: 'inventory.reserve',
  description: 'Command (order saga): reserve the lines of an order.',
  schema: z.object({ orderId: id, lines }),
  partitionKey: byOrder,
});

export const InventoryReserved = defineEvent({
  type: 'inventory.reserved',
  description: 'Reply (order saga): every line of the order is reserved.',
  schema: z.object({ orderId: id }),
  partitionKey: byOrder,
});

export const InventoryReservationFailed = defineEvent({
  type: 'inventory.reservation-failed',
  description: 'Reply (order saga): a line could not be reserved; nothing was.',
  schema: z.object({ orderId: id, reason: z.string().min(1) }),
  partitionKey: byOrder,
});

export const ReleaseInventory = defineEvent({
  type: 'inventory.release',
  description: 'Command (order saga, compensation): put the reserved lines of an order back.',
  schema: z.object({ orderId: id }),
  partitionKey: byOrder,
});
