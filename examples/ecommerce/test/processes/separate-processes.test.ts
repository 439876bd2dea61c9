import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShopClient } from '../../src/client';
import type { FeedEntry } from '../../src/feed/event-feed';
import { readConfig } from '../../src/platform/config';
import type { ProcessInfo } from '../../src/platform/gateway';
import type { OrderSummary } from '../../src/read-model/order-summary';
import { feedFor, type OrderView, seedCatalog, stockOf } from '../support/broker-shop';
import { dropNamespace } from '../support/cleanup';
import {
  runService,
  type ServiceProcess,
  startServiceProcess,
  stopServiceProcesses,
} from '../support/processes';
import { testNamespace } from '../support/shop';

/** The layout under test: the order side, the fulfilment side, the storefront. */
const LAYOUT = {
  orders: ['orders', 'order-summary'],
  fulfilment: ['inventory', 'payment', 'shipping'],
  storefront: [
    'products',
    'customers',
    'cart',
    'recommendations',
    'analytics',
    'event-feed',
    'web',
  ],
} as const;

afterAll(async () => {
  await stopServiceProcesses();
});

describe('npm run service refuses what it cannot run (exit code 2)', () => {
  it('an unknown service name, listing the known ones', async () => {
    const { code, stderr } = await runService(['orders', 'warehouse'], { TRANSPORT: 'kafka' });
    expect(code).toBe(2);
    expect(stderr).toContain('unknown service warehouse; known: products, customers');
    expect(stderr).toContain('order-summary');
  });

  it('the memory transport, which cannot span processes', async () => {
    const { code, stderr } = await runService(['orders'], { TRANSPORT: 'memory' });
    expect(code).toBe(2);
    expect(stderr).toContain('TRANSPORT=memory cannot span processes');
  });
});

function describeSpreadShop(transport: 'kafka' | 'rabbitmq'): void {
  describe(`the shop spread over processes on ${transport}`, () => {
    const config = readConfig({ TRANSPORT: transport, SHOP_NAMESPACE: testNamespace() });
    const env = { TRANSPORT: transport, SHOP_NAMESPACE: config.SHOP_NAMESPACE };
    let processes: Record<keyof typeof LAYOUT, ServiceProcess>;
    let gateway: ServiceProcess;
    const client = (name: keyof typeof LAYOUT) => new ShopClient(processes[name].url);
    const viaGateway = () => new ShopClient(gateway.url);

    beforeAll(async () => {
      const [orders, fulfilment, storefront] = await Promise.all([
        startServiceProcess(LAYOUT.orders, env),
        startServiceProcess(LAYOUT.fulfilment, env),
        startServiceProcess(LAYOUT.storefront, env),
      ]);
      processes = { orders, fulfilment, storefront } as typeof processes;
      gateway = await startServiceProcess(['gateway'], {
        SHOP_UPSTREAMS: [orders, fulfilment, storefront].map((p) => p.url).join(','),
      });
    });

    afterAll(async () => {
      await stopServiceProcesses();
      await dropNamespace(config);
    });

    it('each process runs its services; the gateway knows which one serves each route', async () => {
      for (const name of Object.keys(LAYOUT) as (keyof typeof LAYOUT)[]) {
        expect(await client(name).get<ProcessInfo>('/process')).toMatchObject({
          services: LAYOUT[name],
          transport,
          namespace: config.SHOP_NAMESPACE,
        });
      }
      const { routes } = await viaGateway().get<{
        routes: { method: string; path: string; upstream: string }[];
      }>('/process');
      const upstreamOf = (method: string, path: string) =>
        routes.find((route) => route.method === method && route.path === path)?.upstream;
      expect(upstreamOf('POST', '/orders')).toBe(processes.orders.url);
      expect(upstreamOf('GET', '/order-summaries/:orderId')).toBe(processes.orders.url);
      expect(upstreamOf('GET', '/inventory/:productId')).toBe(processes.fulfilment.url);
      expect(upstreamOf('GET', '/payment/:orderId')).toBe(processes.fulfilment.url);
      expect(upstreamOf('POST', '/products')).toBe(processes.storefront.url);
      expect(upstreamOf('GET', '/events')).toBe(processes.storefront.url);
      expect(upstreamOf('GET', '/')).toBe(processes.storefront.url);
    });

    it('happy path across the processes: the order placed on one is reserved, charged and shipped by another', async () => {
      await seedCatalog(client('storefront'), client('fulfilment'));
      const orderId = await client('orders').placeOrder('ada', [{ productId: 'mug', quantity: 2 }]);
      const summary = await client('orders').until<OrderSummary>(
        `/order-summaries/${orderId}`,
        (s) => s.status === 'delivered',
        30_000,
      );
      expect(summary).toMatchObject({
        total: 25,
        currency: 'EUR',
        paymentId: `pay-${orderId}`,
        shipment: { shipmentId: `shp-${orderId}`, status: 'delivered' },
      });
      const order = await client('orders').until<OrderView>(
        `/orders/${orderId}`,
        (o) => o.status === 'delivered',
        30_000,
      );
      expect(order.saga).toMatchObject({
        status: 'completed',
        completedSteps: ['reserve-inventory', 'charge-payment', 'create-shipment'],
      });
      expect(await stockOf(client('fulfilment'), 'mug')).toBe(8);
      expect(await client('fulfilment').get(`/payment/${orderId}`)).toMatchObject({
        status: 'charged',
        amount: 25,
        currency: 'EUR',
      });
      expect(await client('fulfilment').get(`/shipments/${orderId}`)).toMatchObject({
        status: 'delivered',
      });
      const customer = await client('storefront').until<{ purchases: { orderId: string }[] }>(
        '/customers/ada',
        (c) => c.purchases.some((p) => p.orderId === orderId),
      );
      expect(customer.purchases).toEqual([expect.objectContaining({ orderId, total: 25 })]);
      // The storefront's feed saw the events every process published for the order.
      const events: FeedEntry[] = await feedFor(client('storefront'), orderId, [
        'order.created',
        'inventory.reserved',
        'payment.processed',
        'shipment.completed',
      ]);
      expect(new Set(events.map((e) => e.source))).toEqual(
        new Set([
          '/services/orders',
          '/services/inventory',
          '/services/payment',
          '/services/shipping',
        ]),
      );
    });

    it('payment declined, driven through the gateway: compensated, the stock back where it started', async () => {
      const shop = viaGateway();
      const before = await stockOf(shop, 'lamp');
      expect(before).toBe(2);
      const orderId = await shop.placeOrder('ada', [{ productId: 'lamp', quantity: 1 }]);
      const cancelled = await shop.until<OrderSummary>(
        `/order-summaries/${orderId}`,
        (s) => s.status === 'cancelled',
        30_000,
      );
      expect(cancelled.problem).toBe('payment failed: amount 1500 EUR is over the card limit');
      const order = await shop.until<OrderView>(
        `/orders/${orderId}`,
        (o) => o.status === 'cancelled',
        30_000,
      );
      expect(order.saga).toMatchObject({
        status: 'compensated',
        completedSteps: ['reserve-inventory'],
      });
      await shop.until<{ stock: number }>('/inventory/lamp', (s) => s.stock === before);
      expect(await client('fulfilment').get(`/payment/${orderId}`)).toMatchObject({
        status: 'declined',
      });
      const types = (
        await feedFor(shop, orderId, ['payment.failed', 'inventory.release', 'order.cancelled'])
      ).map((e) => e.type);
      expect(types).not.toContain('shipping.create');
    });

    it('the read model, rebuilt in its own process (Kafka log or RabbitMQ archive), equals the live one', async () => {
      const live = await viaGateway().until<OrderSummary[]>('/order-summaries', (all) =>
        all.every((s) => s.status === 'cancelled' || s.status === 'delivered'),
      );
      expect(live.map((s) => s.status).sort()).toEqual(['cancelled', 'delivered']);
      expect(await viaGateway().post('/order-summaries/rebuild')).toMatchObject({
        equal: true,
        orders: 2,
      });
    });

    it('every process stops gracefully on SIGTERM (exit code 0)', async () => {
      const all = [gateway, ...Object.values(processes)];
      const ended = await Promise.all(all.map((p) => p.stop()));
      expect(ended).toEqual(all.map(() => ({ code: 0, signal: null })));
      for (const p of all) expect(p.output()).toContain(`stopped ${p.names.join(',')}`);
    });
  });
}

describeSpreadShop('kafka');
describeSpreadShop('rabbitmq');
