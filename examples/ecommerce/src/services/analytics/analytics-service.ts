import { on } from '@edakit/core';
import { ProductAddedToCart } from '../../../contracts';
import type { Service, ServiceDeps } from '../../platform/service';

interface ProductFigures {
  adds: number;
  units: number;
  users: Set<string>;
}

/** Cart behaviour per product: how often it is added, how many units, by how many users. */
export function analyticsService({ bus }: ServiceDeps): Service {
  const figures = new Map<string, ProductFigures>();
  const seen = new Set<string>();

  return {
    name: 'analytics',
    async start() {
      bus.subscribe({
        group: 'analytics',
        handlers: [
          on(ProductAddedToCart, (event) => {
            if (seen.has(event.id)) return; // a redelivery counts once
            seen.add(event.id);
            const entry = figures.get(event.data.productId) ?? {
              adds: 0,
              units: 0,
              users: new Set<string>(),
            };
            entry.adds += 1;
            entry.units += event.data.quantity;
            entry.users.add(event.data.userId);
            figures.set(event.data.productId, entry);
          }),
        ],
      });
    },
    async stop() {},
    routes: [
      {
        method: 'GET',
        path: '/analytics/cart',
        handle: async () => ({
          json: [...figures].map(([productId, f]) => ({
            productId,
            adds: f.adds,
            units: f.units,
            users: f.users.size,
          })),
        }),
      },
    ],
  };
}
