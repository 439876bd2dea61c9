import { defineEvent } from '@edakit/core';
import { z } from 'zod';
import { id, isoTime, quantity } from './fields';

export const ProductAddedToCart = defineEvent({
  type: 'cart.product-added',
  description:
    'A user added a product to their cart (never for a product out of stock; adding it again raises the quantity).',
  schema: z.object({ userId: id, productId: id, quantity, addedAt: isoTime }),
  partitionKey: (data) => data.userId,
});
