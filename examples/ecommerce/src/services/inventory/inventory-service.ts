import { type HandlerContext, on } from '@edakit/core';
import { z } from 'zod';
import {
  InventoryReservationFailed,
  InventoryReserved,
  InventoryUpdated,
  OrderCancelled,
  ProductCreated,
  ProductDeleted,
  ReleaseInventory,
  ReserveInventory,
} from '../../../contracts';
import { HttpError, parseBody } from '../../platform/http';
import type { Service, ServiceDeps } from '../../platform/service';
import { Stock } from './stock';

const Restock = z.object({ stock: z.number().int().nonnegative() });

/**
 * Stock levels: opened by ProductCreated, reserved for an order by the saga's
 * command, put back by its compensation or when an order is cancelled.
 * Every change is announced as InventoryUpdated (with the low-stock flag).
 */
export function inventoryService({ bus }: ServiceDeps): Service {
  const stock = new Stock();
  /** Puts an order's reservation back and announces each change; nothing if none is held. */
  const release = async (orderId: string, ctx: HandlerContext) => {
    for (const change of stock.release(orderId)) {
      await ctx.publish(InventoryUpdated, { ...change, reason: 'released', orderId });
    }
  };

  return {
    name: 'inventory',
    async start() {
      bus.subscribe({
        group: 'inventory',
        handlers: [
          on(ProductCreated, async (event, ctx) => {
            if (stock.level(event.data.productId) !== undefined) return;
            const change = stock.set(event.data.productId, event.data.initialStock);
            await ctx.publish(InventoryUpdated, { ...change, reason: 'stocked' });
          }),
          on(ProductDeleted, (event) => stock.remove(event.data.productId)),
          on(ReserveInventory, async (command, ctx) => {
            const { orderId } = command.data;
            // A redelivered command finds the reservation made: answer again, change nothing.
            if (!stock.isReserved(orderId)) {
              const outcome = stock.reserve(orderId, command.data.lines);
              if ('refused' in outcome) {
                await ctx.publish(InventoryReservationFailed, { orderId, reason: outcome.refused });
                return;
              }
              for (const change of outcome) {
                await ctx.publish(InventoryUpdated, { ...change, reason: 'reserved', orderId });
              }
            }
            await ctx.publish(InventoryReserved, { orderId });
          }),
          on(ReleaseInventory, (command, ctx) => release(command.data.orderId, ctx)),
          // An order cancelled after its saga (or by hand) gives its stock back too; once only.
          on(OrderCancelled, (event, ctx) => release(event.data.orderId, ctx)),
        ],
      });
    },
    async stop() {},
    routes: [
      {
        method: 'GET',
        path: '/inventory/:productId',
        async handle({ params }) {
          const productId = params.productId as string;
          const level = stock.level(productId);
          if (level === undefined)
            throw new HttpError(404, 'UNKNOWN_PRODUCT', `No stock for ${productId}`);
          return { json: { productId, stock: level } };
        },
      },
      {
        method: 'PUT',
        path: '/inventory/:productId',
        async handle({ params, body }) {
          const productId = params.productId as string;
          if (stock.level(productId) === undefined)
            throw new HttpError(404, 'UNKNOWN_PRODUCT', `No stock for ${productId}`);
          const change = stock.set(productId, parseBody(Restock, body).stock);
          await bus.publish(InventoryUpdated, { ...change, reason: 'stocked' });
          return { json: { productId, stock: change.stock } };
        },
      },
    ],
  };
}
