import { on } from '@edakit/core';
import { ProductAddedToCart } from '../../../contracts';
import type { Service, ServiceDeps } from '../../platform/service';

/** "Customers who added this also added": products counted by the users they share. */
export function recommendationsService({ bus }: ServiceDeps): Service {
  const productsByUser = new Map<string, Set<string>>();
  const seen = new Set<string>();

  const alsoAdded = (productId: string) => {
    const counts = new Map<string, number>();
    for (const products of productsByUser.values()) {
      if (!products.has(productId)) continue;
      for (const other of products)
        if (other !== productId) counts.set(other, (counts.get(other) ?? 0) + 1);
    }
    return [...counts]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([id, users]) => ({ productId: id, users }));
  };

  return {
    name: 'recommendations',
    async start() {
      bus.subscribe({
        group: 'recommendations',
        handlers: [
          on(ProductAddedToCart, (event) => {
            if (seen.has(event.id)) return;
            seen.add(event.id);
            const products = productsByUser.get(event.data.userId) ?? new Set<string>();
            products.add(event.data.productId);
            productsByUser.set(event.data.userId, products);
          }),
        ],
      });
    },
    async stop() {},
    routes: [
      {
        method: 'GET',
        path: '/recommendations/:productId',
        handle: async ({ params }) => ({
          json: { productId: params.productId, alsoAdded: alsoAdded(params.productId as string) },
        }),
      },
    ],
  };
}
