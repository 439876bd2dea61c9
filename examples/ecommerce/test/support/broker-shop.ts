import { isDeepStrictEqual } from 'node:util';
import { createBus } from '@edakit/core';
import { failFastRedisOptions } from '@edakit/outbox/redis';
import { RedisSagaStore } from '@edakit/saga/redis';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderCreatedV1 } from '../../contracts';
import type { ShopClient } from '../../src/client';
import type { FeedEntry } from '../../src/feed/event-feed';
import type { Config } from '../../src/platform/config';
import { createTransport } from '../../src/platform/transport';
import type { OrderSummary } from '../../src/read-model/order-summary';
import type { OrderRecord } from '../../src/services/orders/order-record';
import { orderStoreNames } from '../../src/services/orders/order-stores';
import { dropNamespace } from './cleanup';
import { startShop, type TestShop } from './shop';

export interface OrderView extends OrderRecord {
  saga: {
    status: string;
    step: string | null;
    completedSteps: string[];
    failure: string | null;
  } | null;
}

/** The catalog every broker test starts from: a mug, a lamp over the card limit, Ada. */
export async function seedCatalog(catalog: ShopClient, inventory: ShopClient): Promise<void> {
  await catalog.post('/products', {
    productId: 'mug',
    name: 'Mug',
    price: 12.5,
    currency: 'EUR',
    initialStock: 10,
  });
  await catalog.post('/products', {
    productId: 'lamp',
    name: 'Lamp',
    price: 1_500,
    currency: 'EUR',
    initialStock: 2,
  });
  await catalog.post('/customers', {
    customerId: 'ada',
    name: 'Ada Lovelace',
    email: 'ada@example.com',
  });
  await inventory.until('/inventory/mug', () => true);
  await inventory.until('/inventory/lamp', () => true);
}

export const stockOf = async (inventory: ShopClient, productId: string) =>
  (await inventory.get<{ stock: number }>(`/inventory/${productId}`)).stock;

/**
 * The event feed's entries of one correlation id, once it has seen every type
 * in `types`: the feed is a consumer group of its own and may lag behind the others.
 */
export const feedFor = async (
  feed: ShopClient,
  correlationId: string,
  types: readonly string[] = [],
): Promise<FeedEntry[]> => {
  const all = await feed.until<FeedEntry[]>(
    '/events',
    (entries) => {
      const seen = new Set(
        entries.filter((e) => e.correlationId === correlationId).map((e) => e.type),
      );
      return types.every((type) => seen.has(type));
    },
    30_000,
  );
  return all.filter((entry) => entry.correlationId === correlationId);
};

/** The saga instance as the orders service stored it in Redis. */
async function storedSaga(config: Config, orderId: string) {
  const client = new Redis(config.REDIS_URL, failFastRedisOptions);
  try {
    const store = await RedisSagaStore.open({
      client,
      prefix: orderStoreNames(config.SHOP_NAMESPACE).sagaPrefix,
    });
    return await store.load('order', orderId);
  } finally {
    client.disconnect();
  }
}

/** The order's row in PostgreSQL. */
async function storedOrder(config: Config, orderId: string) {
  const client = new pg.Client({ connectionString: config.DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ status: string; currency: string; total: string }>(
      `SELECT status, currency, total FROM ${orderStoreNames(config.SHOP_NAMESPACE).ordersTable} WHERE order_id = $1`,
      [orderId],
    );
    return rows[0];
  } finally {
    await client.end();
  }
}

/**
 * The end-to-end suite of the shop over a broker, every service in this
 * process: orders in PostgreSQL, the saga in Redis, a namespace of its own
 * (dropped afterwards).
 */
export function describeShopOverBroker(transport: 'kafka' | 'rabbitmq'): void {
  let shop: TestShop;
  const api = () => shop.shop;
  const summary = (orderId: string, done: (s: OrderSummary) => boolean) =>
    api().until<OrderSummary>(`/order-summaries/${orderId}`, done, 30_000);

  beforeAll(async () => {
    shop = await startShop({ TRANSPORT: transport });
    await seedCatalog(api(), api());
  });

  afterAll(async () => {
    if (!shop) return;
    await shop.stop();
    await dropNamespace(shop.config);
  });

  describe(`the shop in one process over ${transport}`, () => {
    it('happy path: reserved, charged, shipped, delivered; the order in PostgreSQL, the saga in Redis', async () => {
      const before = await stockOf(api(), 'mug');
      const orderId = await api().placeOrder('ada', [{ productId: 'mug', quantity: 2 }]);
      expect(await summary(orderId, (s) => s.status === 'delivered')).toMatchObject({
        orderId,
        customerId: 'ada',
        items: 2,
        total: 25,
        currency: 'EUR',
        paymentId: `pay-${orderId}`,
        shipment: { shipmentId: `shp-${orderId}`, status: 'delivered' },
        problem: null,
      });
      const order = await api().until<OrderView>(
        `/orders/${orderId}`,
        (o) => o.status === 'delivered',
        30_000,
      );
      expect(order).toMatchObject({ total: 25, currency: 'EUR' });
      expect(order.saga).toMatchObject({
        status: 'completed',
        completedSteps: ['reserve-inventory', 'charge-payment', 'create-shipment'],
      });
      expect(await storedOrder(shop.config, orderId)).toEqual({
        status: 'delivered',
        currency: 'EUR',
        total: '25',
      });
      expect(await storedSaga(shop.config, orderId)).toMatchObject({
        status: 'completed',
        completedSteps: ['reserve-inventory', 'charge-payment', 'create-shipment'],
      });
      expect(await stockOf(api(), 'mug')).toBe(before - 2);
      const flow = [
        'order.created',
        'inventory.reserve',
        'inventory.reserved',
        'payment.charge',
        'payment.processed',
        'shipping.create',
        'shipment.started',
        'shipment.completed',
      ];
      const events = await feedFor(api(), orderId, [...flow, 'order.updated']);
      expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(flow));
      const statuses = events
        .filter((event) => event.type === 'order.updated')
        .map((event) => (event.data as { status: string }).status);
      expect(statuses).toEqual(expect.arrayContaining(['shipped', 'delivered']));
      const customer = await api().until<{ purchases: { orderId: string }[] }>(
        '/customers/ada',
        (c) => c.purchases.some((p) => p.orderId === orderId),
      );
      expect(customer.purchases).toContainEqual(expect.objectContaining({ orderId, total: 25 }));
    });

    it('payment declined: compensated, the stock back where it started, the order cancelled', async () => {
      const before = await stockOf(api(), 'lamp');
      const orderId = await api().placeOrder('ada', [{ productId: 'lamp', quantity: 1 }]);
      const reason = 'payment failed: amount 1500 EUR is over the card limit';
      expect((await summary(orderId, (s) => s.status === 'cancelled')).problem).toBe(reason);
      const order = await api().until<OrderView>(
        `/orders/${orderId}`,
        (o) => o.status === 'cancelled',
        30_000,
      );
      expect(order.reason).toBe(reason);
      expect(order.saga).toMatchObject({
        status: 'compensated',
        completedSteps: ['reserve-inventory'],
      });
      await api().until<{ stock: number }>('/inventory/lamp', (s) => s.stock === before);
      expect(await stockOf(api(), 'lamp')).toBe(2);
      expect(await api().get(`/payment/${orderId}`)).toMatchObject({ status: 'declined' });
      const compensation = [
        'inventory.reserved',
        'payment.failed',
        'inventory.release',
        'order.cancelled',
      ];
      const types = (await feedFor(api(), orderId, compensation)).map((event) => event.type);
      expect(types).toEqual(expect.arrayContaining(compensation));
      expect(types).not.toContain('shipping.create');
      expect(await storedOrder(shop.config, orderId)).toMatchObject({ status: 'cancelled' });
    });

    it('a v1 OrderCreated from an old producer is upcast (EUR) and runs the saga', async () => {
      // A producer that still speaks v1: its own bus and connection, no currency.
      const oldProducer = createBus({
        transport: createTransport(shop.config, 'legacy-checkout'),
        source: '/legacy/checkout',
      });
      await oldProducer.publish(
        OrderCreatedV1,
        {
          orderId: 'legacy-1',
          customerId: 'ada',
          lines: [{ productId: 'mug', quantity: 1, unitPrice: 12.5 }],
          total: 12.5,
        },
        { correlationId: 'legacy-1' },
      );
      await oldProducer.stop();
      const upcast = await summary('legacy-1', (s) => s.status === 'delivered');
      expect(upcast).toMatchObject({
        currency: 'EUR',
        total: 12.5,
        items: 1,
        paymentId: 'pay-legacy-1',
      });
      const charge = (await feedFor(api(), 'legacy-1', ['payment.charge'])).find(
        (e) => e.type === 'payment.charge',
      );
      expect(charge?.data).toMatchObject({ orderId: 'legacy-1', amount: 12.5, currency: 'EUR' });
      expect(await storedSaga(shop.config, 'legacy-1')).toMatchObject({
        status: 'completed',
        completedSteps: ['reserve-inventory', 'charge-payment', 'create-shipment'],
      });
      const customer = await api().get<{ purchases: { orderId: string; currency: string }[] }>(
        '/customers/ada',
      );
      expect(customer.purchases).toContainEqual(
        expect.objectContaining({ orderId: 'legacy-1', currency: 'EUR' }),
      );
    });

    const replayed = transport === 'kafka' ? 'the Kafka log' : 'its PostgreSQL archive';
    it(`the read model rebuilt from ${replayed} equals the live one`, async () => {
      const live = await api().until<OrderSummary[]>('/order-summaries', (all) =>
        all.every((s) => s.status === 'cancelled' || s.status === 'delivered'),
      );
      expect(live.map((s) => s.status).sort()).toEqual(['cancelled', 'delivered', 'delivered']);
      const report = await api().post<{ equal: boolean; orders: number; events: number }>(
        '/order-summaries/rebuild',
      );
      expect(report).toMatchObject({ equal: true, orders: live.length });
      expect(await api().get<OrderSummary[]>('/order-summaries')).toEqual(live);
    });

    it(`a new order-summary process starts from ${replayed} with the same model`, async () => {
      const live = await api().get<OrderSummary[]>('/order-summaries');
      const restarted = await startShop(
        { TRANSPORT: transport, SHOP_NAMESPACE: shop.config.SHOP_NAMESPACE },
        ['order-summary'],
      );
      try {
        // The new process reads the whole log (or archive): wait until it has caught up with
        // everything, not just with the number of orders (an order's later events trail it).
        const rebuilt = await restarted.shop
          .until<OrderSummary[]>('/order-summaries', (all) => isDeepStrictEqual(all, live), 15_000)
          .catch(() => restarted.shop.get<OrderSummary[]>('/order-summaries'));
        expect(rebuilt).toEqual(live);
      } finally {
        await restarted.stop();
      }
    });

    it('operations: /health is up with every consumer, /metrics shows the broker backlog at 0 once at rest', async () => {
      const health = await api().request<{
        status: string;
        checks: { name: string; status: string }[];
      }>('GET', '/health');
      const notUp = health.body.checks.filter((check) => check.status !== 'up');
      expect({ status: health.status, notUp }).toEqual({ status: 200, notUp: [] });
      // Kafka groups carry the shop's namespace (`<ns>.orders`); RabbitMQ queues carry it instead.
      const names = health.body.checks.map((c) =>
        c.name.replace(`${shop.config.SHOP_NAMESPACE}.`, ''),
      );
      expect(names).toEqual(
        expect.arrayContaining(['consumer orders', 'consumer saga.order', 'outbox orders.orders']),
      );
      expect(new Set(names).size).toBe(names.length);
      const backlog = transport === 'kafka' ? 'edakit_consumer_lag{' : 'edakit_queue_depth{';
      const text = await (await fetch(`${shop.host.http.url}/metrics`)).text();
      const series = text
        .split('\n')
        .filter((line) => line.startsWith(backlog) && /group="(\w+\.)?inventory"/.test(line));
      expect(series.length).toBeGreaterThan(0);
      expect(series.map((line) => Number(line.split(' ').at(-1)))).toEqual(series.map(() => 0));
      // Nothing of all the flows above was dead-lettered: a group skips the types it does not
      // handle on a shared topic, and no handler failed for good.
      expect(
        text.split('\n').filter((line) => line.startsWith('edakit_dead_letters_total{')),
      ).toEqual([]);
    });
  });
}
