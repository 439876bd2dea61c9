import { randomUUID } from 'node:crypto';
import { on } from '@edakit/core';
import { z } from 'zod';
import {
  InventoryUpdated,
  ProductCreated,
  ProductDeleted,
  ProductUpdated,
} from '../../../contracts';
import { HttpError, parseBody } from '../../platform/http';
import type { Service, ServiceDeps } from '../../platform/service';

export interface Product {
  productId: string;
  name: string;
  price: number;
  currency: string;
  available: boolean;
}

const NewProduct = ProductCreated.schema.extend({
  productId: ProductCreated.schema.shape.productId.optional(),
});
const ProductChange = z
  .object({ name: z.string().min(1).max(200), price: z.number().nonnegative() })
  .partial();

/**
 * The catalog: owns products and their prices, and shows whether each can be
 * bought, from the stock the inventory service announces.
 */
export function productsService({ bus }: ServiceDeps): Service {
  const products = new Map<string, Product>();
  const find = (productId: string): Product => {
    const product = products.get(productId);
    if (!product) throw new HttpError(404, 'UNKNOWN_PRODUCT', `No product ${productId}`);
    return product;
  };
  const announce = (product: Product) => bus.publish(ProductUpdated, { ...product });

  return {
    name: 'products',
    async start() {
      bus.subscribe({
        group: 'products',
        handlers: [
          on(InventoryUpdated, async (event) => {
            const product = products.get(event.data.productId);
            const available = event.data.stock > 0;
            if (!product || product.available === available) return;
            product.available = available;
            await announce(product);
          }),
        ],
      });
    },
    async stop() {},
    routes: [
      {
        method: 'POST',
        path: '/products',
        async handle({ body }) {
          const input = parseBody(NewProduct, body);
          const productId = input.productId ?? `p-${randomUUID().slice(0, 8)}`;
          if (products.has(productId))
            throw new HttpError(409, 'PRODUCT_EXISTS', `Product ${productId} exists`);
          const data = { ...input, productId };
          await bus.publish(ProductCreated, data);
          const product = {
            productId,
            name: data.name,
            price: data.price,
            currency: data.currency.toUpperCase(),
            available: data.initialStock > 0,
          };
          products.set(productId, product);
          return { status: 201, json: product };
        },
      },
      {
        method: 'GET',
        path: '/products',
        handle: async () => ({ json: [...products.values()] }),
      },
      {
        method: 'GET',
        path: '/products/:productId',
        handle: async ({ params }) => ({ json: find(params.productId as string) }),
      },
      {
        method: 'PUT',
        path: '/products/:productId',
        async handle({ params, body }) {
          const product = find(params.productId as string);
          Object.assign(product, parseBody(ProductChange, body));
          await announce(product);
          return { json: product };
        },
      },
      {
        method: 'DELETE',
        path: '/products/:productId',
        async handle({ params }) {
          const product = find(params.productId as string);
          await bus.publish(ProductDeleted, { productId: product.productId });
          products.delete(product.productId);
          return { json: { deleted: product.productId } };
        },
      },
    ],
  };
}
