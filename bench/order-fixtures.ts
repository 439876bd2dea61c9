/**
 * The benchmark's e-commerce event: an order with five line items, a customer,
 * a shipping address and totals (about 1 KB of JSON), in three contract versions.
 *
 * v1: the original event, no currency, `total`.
 * v2: adds `currency` (default 'USD'); the upcaster fills it in for v1 data.
 * v3: renames `total` to `totalAmount`.
 */
import { defineEvent } from '@edakit/core';
import { z } from 'zod';

const Money = z.number().nonnegative().max(1_000_000);

const LineItem = z.object({
  sku: z.string().regex(/^SKU-\d{5}-[A-Z]{3}-[A-Z]{1,2}$/),
  name: z.string().min(1).max(200),
  quantity: z.number().int().positive().max(1000),
  unitPrice: Money,
  discount: Money.default(0),
  category: z.enum(['apparel', 'footwear', 'accessories', 'home', 'outdoor']),
});

const Customer = z.object({
  id: z.string().regex(/^cus_\d{6}$/),
  email: z.email(),
  name: z.string().min(1).max(200),
  tier: z.enum(['standard', 'silver', 'gold']),
  marketingOptIn: z.boolean(),
});

const Address = z.object({
  line1: z.string().min(1).max(200),
  line2: z.string().max(200).optional(),
  city: z.string().min(1).max(100),
  region: z.string().max(100),
  postalCode: z.string().min(2).max(16),
  country: z.string().length(2),
});

export const OrderPlacedV1Schema = z.object({
  orderId: z.string().regex(/^ord_[0-9A-Z]{20}$/),
  placedAt: z.iso.datetime(),
  salesChannel: z.enum(['web', 'ios', 'android', 'store']),
  customer: Customer,
  shippingAddress: Address,
  items: z.array(LineItem).min(1).max(100),
  paymentMethod: z.enum(['card', 'paypal', 'gift_card', 'invoice']),
  subtotal: Money,
  discountTotal: Money,
  tax: Money,
  shipping: Money,
  total: Money,
  notes: z.string().max(1000).optional(),
});

export const OrderPlacedV1 = defineEvent({
  type: 'order.placed',
  version: 1,
  schema: OrderPlacedV1Schema,
  description: 'A customer placed an order (v1: no currency)',
  partitionKey: (order) => order.orderId,
});

export const OrderPlacedV2 = OrderPlacedV1.evolve({
  schema: OrderPlacedV1Schema.extend({ currency: z.string().length(3).default('USD') }),
  upcast: (v1) => ({ ...v1, currency: 'USD' }),
  description: 'A customer placed an order (v2: currency)',
  partitionKey: (order) => order.orderId,
});

export const OrderPlacedV3 = OrderPlacedV2.evolve({
  schema: OrderPlacedV2.schema.omit({ total: true }).extend({ totalAmount: Money }),
  upcast: ({ total, ...rest }) => ({ ...rest, totalAmount: total }),
  description: 'A customer placed an order (v3: total renamed totalAmount)',
  partitionKey: (order) => order.orderId,
});

export type OrderV1Input = z.input<typeof OrderPlacedV1.schema>;
export type OrderV3Input = z.input<typeof OrderPlacedV3.schema>;

const FIRST = ['Jane', 'Omar', 'Mei', 'Lukas', 'Amara', 'Diego', 'Priya', 'Noah'];
const LAST = ['Doe', 'Haddad', 'Chen', 'Schmidt', 'Okafor', 'Alvarez', 'Nair', 'Smith'];
const PRODUCTS = [
  ['Merino crew-neck sweater', 'apparel'],
  ['Trail running shoes', 'footwear'],
  ['Leather card holder', 'accessories'],
  ['Linen duvet cover, queen', 'home'],
  ['Insulated water bottle 750 ml', 'outdoor'],
  ['Organic cotton t-shirt', 'apparel'],
  ['Waxed canvas backpack', 'accessories'],
  ['Wool hiking socks, 3-pack', 'outdoor'],
] as const;
const SIZES = ['S', 'M', 'L', 'XL'];
const COLOURS = ['BLU', 'BLK', 'GRN', 'RED', 'GRY'];

/** Small deterministic PRNG (mulberry32), so every run benchmarks the same data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const cents = (value: number): number => Math.round(value * 100) / 100;

/** `count` distinct v1 orders (unique orderIds, so partition keys never collide). */
export function makeOrdersV1(count: number, seed = 42): OrderV1Input[] {
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const orders: OrderV1Input[] = [];
  for (let n = 0; n < count; n++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const items = Array.from({ length: 5 }, () => {
      const [name, category] = pick(PRODUCTS);
      const unitPrice = cents(5 + next() * 150);
      return {
        sku: `SKU-${String(10000 + Math.floor(next() * 89999))}-${pick(COLOURS)}-${pick(SIZES)}`,
        name,
        quantity: 1 + Math.floor(next() * 3),
        unitPrice,
        discount: next() < 0.3 ? cents(unitPrice * 0.1) : 0,
        category,
      };
    });
    const subtotal = cents(items.reduce((sum, item) => sum + item.unitPrice * item.quantity, 0));
    const discountTotal = cents(
      items.reduce((sum, item) => sum + item.discount * item.quantity, 0),
    );
    const tax = cents((subtotal - discountTotal) * 0.08);
    const shipping = subtotal > 100 ? 0 : 4.95;
    orders.push({
      orderId: `ord_${String(n).padStart(8, '0')}${Math.floor(next() * 1e12)
        .toString(36)
        .toUpperCase()
        .padStart(12, '0')
        .slice(0, 12)}`,
      placedAt: new Date(
        Date.UTC(2026, 10, 1) + Math.floor(next() * 20 * 86_400_000),
      ).toISOString(),
      salesChannel: pick(['web', 'ios', 'android', 'store'] as const),
      customer: {
        id: `cus_${String(100000 + Math.floor(next() * 899999))}`,
        email: `${first.toLowerCase()}.${last.toLowerCase()}${n}@example.com`,
        name: `${first} ${last}`,
        tier: pick(['standard', 'silver', 'gold'] as const),
        marketingOptIn: next() < 0.5,
      },
      shippingAddress: {
        line1: `${1 + Math.floor(next() * 400)} Harbour View Road`,
        line2: next() < 0.5 ? `Apartment ${1 + Math.floor(next() * 60)}` : undefined,
        city: 'Springfield',
        region: 'Oregon',
        postalCode: `97${String(Math.floor(next() * 1000)).padStart(3, '0')}`,
        country: 'US',
      },
      items,
      paymentMethod: pick(['card', 'paypal', 'gift_card', 'invoice'] as const),
      subtotal,
      discountTotal,
      tax,
      shipping,
      total: cents(subtotal - discountTotal + tax + shipping),
      notes:
        next() < 0.5 ? 'Please leave the parcel with the concierge if nobody answers.' : undefined,
    });
  }
  return orders;
}

/** The same orders as a v3 producer writes them. */
export function toV3(order: OrderV1Input): OrderV3Input {
  const { total, ...rest } = order;
  return { ...rest, currency: 'USD', totalAmount: total };
}
