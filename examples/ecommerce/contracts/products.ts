import { defineEvent } from '@edakit/core';
import { z } from 'zod';
import { byProduct, currency, id, money } from './fields';

export const ProductCreated = defineEvent({
  type: 'product.created',
  description: 'A product was added to the catalog, with its price and opening stock.',
  schema: z.object({
    productId: id,
    name: z.string().min(1).max(200),
    price: money,
    currency,
    initialStock: z.number().int().nonnegative(),
  }),
  partitionKey: byProduct,
});

export const ProductUpdated = defineEvent({
  type: 'product.updated',
  description: 'A product changed: its name or price, or whether it can be bought (from stock).',
  schema: z.object({
    productId: id,
    name: z.string().min(1).max(200),
    price: money,
    currency,
    available: z.boolean(),
  }),
  partitionKey: byProduct,
});

export const ProductDeleted = defineEvent({
  type: 'product.deleted',
  description: 'A product was withdrawn from the catalog.',
  schema: z.object({ productId: id }),
  partitionKey: byProduct,
});
