import { randomUUID } from 'node:crypto';
import { type ConsumedEvent, on } from '@edakit/core';
import { createRelay } from '@edakit/outbox';
import { createSagaRuntime } from '@edakit/saga';
import { z } from 'zod';
import {
  CustomerCreated,
  CustomerDeleted,
  CustomerUpdated,
  OrderCancelled,
  OrderCreated,
  OrderUpdated,
  PaymentProcessed,
  ProductCreated,
  ProductDeleted,
  ProductUpdated,
  ShipmentCompleted,
  ShipmentStarted,
} from '../../../contracts';
import { HttpError, parseBody } from '../../platform/http';
import type { Service, ServiceDeps } from '../../platform/service';
import type { OrderRecord, OrderState } from './order-record';
import { OrderSaga } from './order-saga';
import { openOrderStores } from './order-stores';

const PlaceOrder = z.object({
  customerId: z.string().min(1),
  lines: z
    .array(z.object({ productId: z.string().min(1), quantity: z.number().int().positive() }))
    .min(1),
});

interface PricedProduct {
  price: number;
  currency: string;
}

/**
 * Orders: places them (the order and OrderCreated through the outbox), runs
 * the order saga, and follows each order through payment and shipping,
 * announcing every status change as OrderUpdated.
 */
export async function ordersService({
  bus,
  transport,
  config,
  tracing,
}: ServiceDeps): Promise<Service> {
  const stores = await openOrderStores(config, bus);
  const { orders } = stores;
  const relay = createRelay({
    store: orders.outbox,
    transport,
    wakeOn: [orders.commits],
    pollIntervalMs: 200,
  });
  const saga = createSagaRuntime({
    bus,
    transport,
    store: stores.sagas,
    sagas: [OrderSaga],
    relay: { pollIntervalMs: 200 },
    ...(tracing === undefined ? {} : { tracing }),
  });
  // What the service knows of other services' data, from their events.
  const products = new Map<string, PricedProduct>();
  const customers = new Set<string>();

  /** Moves an order on, announcing the new status in the same write. */
  const advance = (
    event: ConsumedEvent<
      typeof PaymentProcessed | typeof ShipmentStarted | typeof ShipmentCompleted
    >,
    from: OrderState[],
    to: 'processing' | 'shipped' | 'delivered',
  ) =>
    orders.move(event.data.orderId, from, to, (order) => [
      bus.prepare(
        OrderUpdated,
        { orderId: order.orderId, status: to },
        { correlationId: event.correlationid, causationId: event.id },
      ),
    ]);

  const place = async (input: z.output<typeof PlaceOrder>): Promise<OrderRecord> => {
    if (!customers.has(input.customerId)) {
      throw new HttpError(422, 'UNKNOWN_CUSTOMER', `No customer ${input.customerId}`);
    }
    const lines = input.lines.map(({ productId, quantity }) => {
      const product = products.get(productId);
      if (!product) throw new HttpError(422, 'UNKNOWN_PRODUCT', `No product ${productId}`);
      return { productId, quantity, unitPrice: product.price, currency: product.currency };
    });
    const currencies = new Set(lines.map((line) => line.currency));
    if (currencies.size > 1) {
      throw new HttpError(
        422,
        'MIXED_CURRENCIES',
        `An order is in one currency; got ${[...currencies].join(', ')}`,
      );
    }
    const orderId = `o-${randomUUID().slice(0, 8)}`;
    const order: OrderRecord = {
      orderId,
      customerId: input.customerId,
      lines: lines.map(({ productId, quantity, unitPrice }) => ({
        productId,
        quantity,
        unitPrice,
      })),
      total:
        Math.round(lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0) * 100) /
        100,
      currency: lines[0]?.currency ?? 'EUR',
      status: 'pending',
      placedAt: new Date().toISOString(),
    };
    const { status: _status, placedAt: _placedAt, reason: _reason, ...data } = order;
    await orders.place(order, [bus.prepare(OrderCreated, data, { correlationId: orderId })]);
    return order;
  };

  return {
    name: 'orders',
    outboxes: { orders: relay, saga: saga.relay },
    async start() {
      bus.subscribe({
        group: 'orders',
        handlers: [
          on(ProductCreated, (event) => {
            products.set(event.data.productId, {
              price: event.data.price,
              currency: event.data.currency,
            });
          }),
          on(ProductUpdated, (event) => {
            products.set(event.data.productId, {
              price: event.data.price,
              currency: event.data.currency,
            });
          }),
          on(ProductDeleted, (event) => {
            products.delete(event.data.productId);
          }),
          on(CustomerCreated, (event) => {
            customers.add(event.data.customerId);
          }),
          on(CustomerUpdated, (event) => {
            customers.add(event.data.customerId);
          }),
          on(CustomerDeleted, (event) => {
            customers.delete(event.data.customerId);
          }),
          on(PaymentProcessed, (event) => advance(event, ['pending'], 'processing')),
          on(ShipmentStarted, (event) => advance(event, ['pending', 'processing'], 'shipped')),
          on(ShipmentCompleted, (event) => advance(event, ['shipped'], 'delivered')),
          // The saga cancels the order once it has undone its steps; the row follows.
          on(OrderCancelled, (event) =>
            orders.move(
              event.data.orderId,
              ['pending', 'processing', 'shipped'],
              'cancelled',
              () => [],
              event.data.reason,
            ),
          ),
        ],
      });
      await saga.start();
      relay.start();
    },
    sagas: [saga],
    async stop() {
      await relay.stop();
      await saga.stop();
      await stores.close();
    },
    routes: [
      {
        method: 'POST',
        path: '/orders',
        async handle({ body }) {
          return { status: 201, json: await place(parseBody(PlaceOrder, body)) };
        },
      },
      {
        method: 'GET',
        path: '/orders',
        handle: async () => ({ json: await orders.list(100) }),
      },
      {
        method: 'GET',
        path: '/orders/:orderId',
        async handle({ params }) {
          const orderId = params.orderId as string;
          const order = await orders.get(orderId);
          if (!order) throw new HttpError(404, 'UNKNOWN_ORDER', `No order ${orderId}`);
          const instance = await saga.get<{ failure: string }>('order', orderId);
          const sagaView = instance && {
            status: instance.status,
            step: OrderSaga.steps[instance.step]?.name ?? null,
            completedSteps: instance.completedSteps,
            failure: instance.data.failure || null,
            version: instance.version,
          };
          return { json: { ...order, saga: sagaView ?? null } };
        },
      },
    ],
  };
}
