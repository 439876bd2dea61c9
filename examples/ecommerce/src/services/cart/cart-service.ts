import { on } from '@edakit/core';
import { z } from 'zod';
import {
  InventoryUpdated,
  ProductAddedToCart,
  ProductCreated,
  ProductDeleted,
} from '../../../contracts';
import { HttpError, parseBody } from '../../platform/http';
import type { Service, ServiceDeps } from '../../platform/service';

const AddItem = z.object({ productId: z.string().min(1), quantity: z.number().int().positive() });

/**
 * Shopping carts. Knows which products exist and how many are in stock from
 * their events, so it refuses a product that is out of stock without asking
 * another service; adding a product already in the cart raises its quantity.
 */
export function cartService({ bus }: ServiceDeps): Service {
  const stock = new Map<string, number>();
  const carts = new Map<string, Map<string, number>>();
  const cartOf = (userId: string) => Object.fromEntries(carts.get(userId) ?? []);

  return {
    name: 'cart',
    async start() {
      bus.subscribe({
        group: 'cart',
        handlers: [
          on(ProductCreated, (event) => {
            if (!stock.has(event.data.productId))
              stock.set(event.data.productId, event.data.initialStock);
          }),
          on(InventoryUpdated, (event) => {
            stock.set(event.data.productId, event.data.stock);
          }),
          on(ProductDeleted, (event) => {
            stock.delete(event.data.productId);
          }),
        ],
      });
    },
    async stop() {},
    routes: [
      {
        method: 'POST',
        path: '/cart/:userId/items',
        async handle({ params, body }) {
          const userId = params.userId as string;
          const { productId, quantity } = parseBody(AddItem, body);
          const inStock = stock.get(productId);
          if (inStock === undefined)
            throw new HttpError(404, 'UNKNOWN_PRODUCT', `No product ${productId}`);
          if (inStock === 0)
            throw new HttpError(409, 'OUT_OF_STOCK', `${productId} is out of stock`);
          await bus.publish(ProductAddedToCart, {
            userId,
            productId,
            quantity,
            addedAt: new Date().toISOString(),
          });
          const cart = carts.get(userId) ?? new Map<string, number>();
          cart.set(productId, (cart.get(productId) ?? 0) + quantity);
          carts.set(userId, cart);
          return { status: 201, json: { userId, items: cartOf(userId) } };
        },
      },
      {
        method: 'GET',
        path: '/cart/:userId',
        handle: async ({ params }) => ({
          json: { userId: params.userId, items: cartOf(params.userId as string) },
        }),
      },
    ],
  };
}
