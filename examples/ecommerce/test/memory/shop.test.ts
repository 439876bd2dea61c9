import { createBus } from '@edakit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderCreatedV1 } from '../../contracts';
import type { FeedEntry } from '../../src/feed/event-feed';
import type { OrderSummary } from '../../src/read-model/order-summary';
import type { OrderView } from '../support/broker-shop';
import { startShop, type TestShop } from '../support/shop';

let shop: TestShop;
const api = () => shop.shop;

const place = (customerId: string, lines: { productId: string; quantity: number }[]) =>
  api().placeOrder(customerId, lines);

const stockOf = async (productId: string) =>
  (await api().get<{ stock: number }>(`/inventory/${productId}`)).stock;

const summary = (orderId: string, done: (s: OrderSummary) => boolean) =>
  api().until<OrderSummary>(`/order-summaries/${orderId}`, done);

const feedFor = async (correlationId: string) =>
  (await api().get<FeedEntry[]>('/events'))
    .filter((entry) => entry.correlationId === correlationId)
    .map((e) => e.type);

beforeAll(async () => {
  shop = await startShop();
  await api().post('/products', {
    productId: 'mug',
    name: 'Mug',
    price: 12.5,
    currency: 'EUR',
    initialStock: 10,
  });
  await api().post('/products', {
    productId: 'lamp',
    name: 'Lamp',
    price: 1_500,
    currency: 'EUR',
    initialStock: 2,
  });
  await api().post('/products', {
    productId: 'pen',
    name: 'Pen',
    price: 2,
    currency: 'EUR',
    initialStock: 4,
  });
  await api().post('/customers', {
    customerId: 'ada',
    name: 'Ada Lovelace',
    email: 'ada@example.com',
  });
  await api().until<{ stock: number }>('/inventory/pen', () => true);
});

afterAll(async () => {
  await shop?.stop();
});

describe('the shop in one process, on the memory transport', () => {
  it('happy path: an order is reserved, charged, shipped and delivered; every status announced', async () => {
    const before = await stockOf('mug');
    const orderId = await place('ada', [{ productId: 'mug', quantity: 2 }]);
    const done = await summary(orderId, (s) => s.status === 'delivered');
    expect(done).toMatchObject({
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
    );
    expect(order.saga).toMatchObject({
      status: 'completed',
      completedSteps: ['reserve-inventory', 'charge-payment', 'create-shipment'],
    });
    expect(await stockOf('mug')).toBe(before - 2);
    const types = await feedFor(orderId);
    for (const type of [
      'order.created',
      'inventory.reserve',
      'inventory.reserved',
      'payment.charge',
      'payment.processed',
      'shipping.create',
      'shipment.started',
      'shipment.completed',
    ]) {
      expect(types).toContain(type);
    }
    expect(types.filter((type) => type === 'order.updated')).toHaveLength(3); // processing, shipped, delivered
    const customer = await api().get<{ purchases: { orderId: string; total: number }[] }>(
      '/customers/ada',
    );
    expect(customer.purchases).toContainEqual(expect.objectContaining({ orderId, total: 25 }));
  });

  it('payment declined: the stock is released, the order cancelled with the reason, nothing refunded', async () => {
    const before = await stockOf('lamp');
    const orderId = await place('ada', [{ productId: 'lamp', quantity: 1 }]);
    const cancelled = await summary(orderId, (s) => s.status === 'cancelled');
    expect(cancelled.problem).toBe('payment failed: amount 1500 EUR is over the card limit');
    await api().until<{ stock: number }>('/inventory/lamp', (s) => s.stock === before);
    const order = await api().until<OrderView>(
      `/orders/${orderId}`,
      (o) => o.status === 'cancelled',
    );
    expect(order.reason).toBe('payment failed: amount 1500 EUR is over the card limit');
    expect(order.saga).toMatchObject({
      status: 'compensated',
      completedSteps: ['reserve-inventory'],
    });
    const types = await feedFor(orderId);
    expect(types).toContain('inventory.release');
    expect(types).not.toContain('payment.refund');
    expect(types).not.toContain('shipping.create');
    expect(await api().get<{ status: string }>(`/payment/${orderId}`)).toMatchObject({
      status: 'declined',
    });
  });

  it('"fail the next payment" declines exactly one charge', async () => {
    await api().post('/payment/fail-next');
    const failing = await place('ada', [{ productId: 'pen', quantity: 1 }]);
    expect((await summary(failing, (s) => s.status === 'cancelled')).problem).toBe(
      'payment failed: card declined',
    );
    const next = await place('ada', [{ productId: 'pen', quantity: 1 }]);
    expect((await summary(next, (s) => s.status === 'delivered')).paymentId).toBe(`pay-${next}`);
  });

  it('not enough stock: the reservation fails, nothing is charged, the order is cancelled', async () => {
    const orderId = await place('ada', [{ productId: 'lamp', quantity: 5 }]);
    const cancelled = await summary(orderId, (s) => s.status === 'cancelled');
    expect(cancelled.problem).toBe('out of stock: only 2 of lamp in stock, 5 wanted');
    expect(await feedFor(orderId)).not.toContain('payment.charge');
    expect(await stockOf('lamp')).toBe(2);
  });

  it('a v1 OrderCreated (no currency) from an old producer is upcast to EUR and runs the saga', async () => {
    const oldProducer = createBus({
      transport: shop.host.transport,
      source: '/legacy/checkout',
      closeTransportOnStop: false,
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
    const upcast = await summary('legacy-1', (s) => s.shipment !== null);
    expect(upcast).toMatchObject({ currency: 'EUR', total: 12.5, paymentId: 'pay-legacy-1' });
    const charge = (await api().get<FeedEntry[]>('/events')).find(
      (e) => e.type === 'payment.charge' && e.correlationId === 'legacy-1',
    );
    expect(charge?.data).toMatchObject({ amount: 12.5, currency: 'EUR' });
  });

  it('the read model rebuilt by replaying the log equals the live one', async () => {
    // Every order at rest first, so the live model does not move under the comparison.
    const live = await api().until<OrderSummary[]>('/order-summaries', (all) =>
      all.every((s) => s.status === 'cancelled' || s.status === 'delivered'),
    );
    expect(live.length).toBeGreaterThanOrEqual(5);
    const report = await api().post<{ equal: boolean; orders: number; events: number }>(
      '/order-summaries/rebuild',
    );
    expect(report).toMatchObject({ equal: true, orders: live.length });
    expect(await api().get<OrderSummary[]>('/order-summaries')).toEqual(live);
  });
});

describe('business rules of the other services', () => {
  it('cart: adding a product again raises its quantity; each add is one ProductAddedToCart', async () => {
    await api().post('/cart/bob/items', { productId: 'pen', quantity: 1 });
    const cart = await api().post<{ items: Record<string, number> }>('/cart/bob/items', {
      productId: 'pen',
      quantity: 2,
    });
    expect(cart.items).toEqual({ pen: 3 });
    const adds = (await api().get<FeedEntry[]>('/events')).filter(
      (e) => e.type === 'cart.product-added' && e.key === 'bob',
    );
    expect(adds.map((e) => e.data)).toEqual([
      expect.objectContaining({ userId: 'bob', productId: 'pen', quantity: 1 }),
      expect.objectContaining({ userId: 'bob', productId: 'pen', quantity: 2 }),
    ]);
  });

  it('recommendations and analytics follow ProductAddedToCart', async () => {
    await api().post('/cart/cleo/items', { productId: 'pen', quantity: 1 });
    await api().post('/cart/cleo/items', { productId: 'mug', quantity: 1 });
    const recommended = await api().until<{ alsoAdded: { productId: string; users: number }[] }>(
      '/recommendations/pen',
      (r) => r.alsoAdded.length > 0,
    );
    expect(recommended.alsoAdded).toEqual([{ productId: 'mug', users: 1 }]);
    const figures = await api().until<
      { productId: string; adds: number; units: number; users: number }[]
    >('/analytics/cart', (rows) => (rows.find((r) => r.productId === 'pen')?.users ?? 0) >= 2);
    expect(figures.find((r) => r.productId === 'pen')).toEqual({
      productId: 'pen',
      adds: 3,
      units: 4,
      users: 2,
    });
  });

  it('out of stock: the cart refuses the product (409), the product shows unavailable, and comes back when restocked', async () => {
    await api().post('/products', {
      productId: 'rare',
      name: 'Rare',
      price: 5,
      currency: 'EUR',
      initialStock: 1,
    });
    const orderId = await place('ada', [{ productId: 'rare', quantity: 1 }]);
    await summary(orderId, (s) => s.status === 'delivered');
    const updates = (await api().get<FeedEntry[]>('/events')).filter(
      (e) => e.type === 'inventory.updated' && e.key === 'rare',
    );
    expect(updates.at(-1)?.data).toMatchObject({
      stock: 0,
      change: -1,
      reason: 'reserved',
      lowStock: true,
      orderId,
    });
    await api().until<{ available: boolean }>('/products/rare', (p) => p.available === false);
    const refused = await api().request<{ error: { code: string } }>('POST', '/cart/dan/items', {
      productId: 'rare',
      quantity: 1,
    });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'OUT_OF_STOCK' } } });
    expect((await api().get<FeedEntry[]>('/events')).some((e) => e.key === 'dan')).toBe(false);
    await api().call('PUT', '/inventory/rare', { stock: 5 });
    await api().until<{ available: boolean }>('/products/rare', (p) => p.available === true);
    await api().until('/cart/dan', () => true);
    const accepted = await api().request('POST', '/cart/dan/items', {
      productId: 'rare',
      quantity: 1,
    });
    expect(accepted.status).toBe(201);
  });

  it('bad input gets a 4xx with a code, never a 500', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/orders', { customerId: 'ada', lines: [] }, 400, 'INVALID_REQUEST'],
      [
        'POST',
        '/orders',
        { customerId: 'nobody', lines: [{ productId: 'pen', quantity: 1 }] },
        422,
        'UNKNOWN_CUSTOMER',
      ],
      [
        'POST',
        '/orders',
        { customerId: 'ada', lines: [{ productId: 'ghost', quantity: 1 }] },
        422,
        'UNKNOWN_PRODUCT',
      ],
      ['POST', '/cart/ada/items', { productId: 'pen', quantity: 0 }, 400, 'INVALID_REQUEST'],
      [
        'POST',
        '/products',
        { productId: 'x', name: 'X', price: -1, currency: 'EUR', initialStock: 1 },
        400,
        'INVALID_REQUEST',
      ],
      ['POST', '/customers', { name: 'Eve', email: 'not-an-email' }, 400, 'INVALID_REQUEST'],
      ['GET', '/orders/nope', undefined, 404, 'UNKNOWN_ORDER'],
      ['GET', '/nowhere', undefined, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const answer = await api().request<{ error: { code: string } }>(method, path, body);
      expect({ path, status: answer.status, code: answer.body.error?.code }).toEqual({
        path,
        status,
        code,
      });
    }
  });
});

describe('operations', () => {
  it('GET /health reports every bus, the transport and the outbox relays; /health/live answers 200', async () => {
    const health = await api().request<{
      status: string;
      ready: boolean;
      live: boolean;
      checks: { name: string; status: string }[];
    }>('GET', '/health');
    const notUp = health.body.checks.filter((check) => check.status !== 'up');
    expect({ status: health.status, notUp }).toEqual({ status: 200, notUp: [] });
    expect(health.body).toMatchObject({ status: 'up', ready: true, live: true });
    const names = health.body.checks.map((check) => check.name);
    expect(names).toEqual(expect.arrayContaining(['outbox orders.orders', 'outbox orders.saga']));
    expect(names.filter((name) => name.startsWith('bus ')).length).toBeGreaterThanOrEqual(11);
    expect((await api().request('GET', '/health/live')).status).toBe(200);
  });

  it('GET /metrics counts what the shop published and handled, with bounded labels', async () => {
    const response = await fetch(`${shop.host.http.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const value = (line: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(line))
          ?.split(' ')
          .at(-1),
      );
    // OrderCreated leaves through the outbox relay (straight to the transport); the legacy
    // producer's bus and the products' own publishes go through a bus of this process.
    expect(value('edakit_events_published_total{type="product.created",status="ok"}')).toBe(4);
    expect(
      value(
        'edakit_handler_duration_seconds_count{group="inventory",handler="inventory/inventory.reserve"',
      ),
    ).toBeGreaterThanOrEqual(6);
    expect(value('edakit_outbox_pending{outbox="orders.orders"}')).toBe(0);
    // The order saga's instances, against what the orders service says of each saga, plus
    // legacy-1: the old producer's order, which has no order row and whose saga completed.
    const orders = await api().get<{ orderId: string }[]>('/orders');
    const sagas = await Promise.all(
      orders.map(async ({ orderId }) => {
        const order = await api().get<{ saga: { status: string } | null }>(`/orders/${orderId}`);
        return order.saga?.status;
      }),
    );
    const counted = (status: string) => sagas.filter((saga) => saga === status).length;
    expect(counted('completed')).toBeGreaterThanOrEqual(2);
    expect(counted('compensated')).toBeGreaterThanOrEqual(3);
    expect(value('edakit_saga_instances_started_total{saga="order"}')).toBe(
      sagas.filter((saga) => saga !== undefined).length + 1,
    );
    expect(value('edakit_saga_instances_finished_total{saga="order",status="completed"}')).toBe(
      counted('completed') + 1,
    );
    expect(value('edakit_saga_instances_finished_total{saga="order",status="compensated"}')).toBe(
      counted('compensated'),
    );
    // The same, as the saga store holds them.
    expect(value('edakit_saga_instances{saga="order",status="completed"}')).toBe(
      counted('completed') + 1,
    );
    expect(value('edakit_saga_instances{saga="order",status="compensated"}')).toBe(
      counted('compensated'),
    );
    expect(value('edakit_saga_instances{saga="order",status="running"}')).toBe(counted('running'));
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/); // no event id as a label
    // Types a group does not handle share its channels: skipped, never dead-lettered.
    expect(
      text.split('\n').filter((line) => line.startsWith('edakit_dead_letters_total{')),
    ).toEqual([]);
  });
});
