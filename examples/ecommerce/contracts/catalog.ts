import { defineCatalog } from '@edakit/core';
import { ProductAddedToCart } from './cart';
import { CustomerCreated, CustomerDeleted, CustomerUpdated } from './customers';
import {
  InventoryReservationFailed,
  InventoryReserved,
  InventoryUpdated,
  ReleaseInventory,
  ReserveInventory,
} from './inventory';
import { OrderCancelled, OrderCreated, OrderUpdated } from './orders';
import { ChargePayment, PaymentFailed, PaymentProcessed, RefundPayment } from './payment';
import { ProductCreated, ProductDeleted, ProductUpdated } from './products';
import {
  CancelShipment,
  CreateShipment,
  ShipmentCompleted,
  ShipmentStarted,
  ShipmentUpdated,
} from './shipping';

const ORDER_SUMMARY = 'order-summary';

/**
 * Who produces and who consumes each event: the source of docs/events
 * (`npm run catalog`) and docs/asyncapi.json. Commands and replies belong to
 * the order saga, which runs in the orders service.
 */
export const catalog = defineCatalog({
  title: 'edakit e-commerce',
  version: '1.0.0',
  description:
    'Products, orders, customers, inventory, payment, shipping and cart services of the edakit reference application, and the order saga that ties an order together.',
  events: [
    {
      contract: ProductCreated,
      producer: 'products',
      consumers: ['inventory', 'orders', 'cart'],
      example: { productId: 'p-1', name: 'Mug', price: 12.5, currency: 'EUR', initialStock: 20 },
    },
    {
      contract: ProductUpdated,
      producer: 'products',
      consumers: ['orders'],
    },
    { contract: ProductDeleted, producer: 'products', consumers: ['orders', 'cart', 'inventory'] },
    {
      contract: OrderCreated,
      producer: 'orders',
      consumers: ['order-saga', 'customers', ORDER_SUMMARY],
      changes: {
        1: 'First version: every order was in euros.',
        2: 'Adds `currency`; v1 orders are read as EUR.',
      },
      example: {
        orderId: 'o-1',
        customerId: 'c-1',
        lines: [{ productId: 'p-1', quantity: 2, unitPrice: 12.5 }],
        total: 25,
        currency: 'EUR',
      },
    },
    { contract: OrderUpdated, producer: 'orders', consumers: [ORDER_SUMMARY] },
    {
      contract: OrderCancelled,
      producer: 'orders',
      consumers: ['inventory', 'orders', ORDER_SUMMARY],
    },
    { contract: CustomerCreated, producer: 'customers', consumers: ['orders'] },
    { contract: CustomerUpdated, producer: 'customers', consumers: ['orders'] },
    { contract: CustomerDeleted, producer: 'customers', consumers: ['orders'] },
    { contract: InventoryUpdated, producer: 'inventory', consumers: ['products', 'cart'] },
    {
      contract: PaymentProcessed,
      producer: 'payment',
      consumers: ['order-saga', 'orders', ORDER_SUMMARY],
      kind: 'reply',
    },
    {
      contract: PaymentFailed,
      producer: 'payment',
      consumers: ['order-saga', ORDER_SUMMARY],
      kind: 'reply',
    },
    {
      contract: ShipmentStarted,
      producer: 'shipping',
      consumers: ['order-saga', 'orders', ORDER_SUMMARY],
      kind: 'reply',
    },
    { contract: ShipmentUpdated, producer: 'shipping', consumers: [ORDER_SUMMARY] },
    { contract: ShipmentCompleted, producer: 'shipping', consumers: ['orders', ORDER_SUMMARY] },
    {
      contract: ProductAddedToCart,
      producer: 'cart',
      consumers: ['recommendations', 'analytics'],
      example: { userId: 'c-1', productId: 'p-1', quantity: 1, addedAt: '2026-11-22T10:00:00Z' },
    },
    {
      contract: ReserveInventory,
      producer: 'order-saga',
      consumers: ['inventory'],
      kind: 'command',
    },
    {
      contract: InventoryReserved,
      producer: 'inventory',
      consumers: ['order-saga'],
      kind: 'reply',
    },
    {
      contract: InventoryReservationFailed,
      producer: 'inventory',
      consumers: ['order-saga', ORDER_SUMMARY],
      kind: 'reply',
    },
    {
      contract: ReleaseInventory,
      producer: 'order-saga',
      consumers: ['inventory'],
      kind: 'command',
    },
    { contract: ChargePayment, producer: 'order-saga', consumers: ['payment'], kind: 'command' },
    { contract: RefundPayment, producer: 'order-saga', consumers: ['payment'], kind: 'command' },
    { contract: CreateShipment, producer: 'order-saga', consumers: ['shipping'], kind: 'command' },
    { contract: CancelShipment, producer: 'order-saga', consumers: ['shipping'], kind: 'command' },
  ],
});
