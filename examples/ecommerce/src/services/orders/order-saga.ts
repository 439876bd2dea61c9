import { defineSaga, reply, send } from '@edakit/saga';
import {
  CancelShipment,
  ChargePayment,
  CreateShipment,
  InventoryReservationFailed,
  InventoryReserved,
  OrderCancelled,
  OrderCreated,
  PaymentFailed,
  PaymentProcessed,
  RefundPayment,
  ReleaseInventory,
  ReserveInventory,
  ShipmentStarted,
} from '../../../contracts';

/**
 * The order saga: reserve inventory -> charge payment -> create shipment. A
 * failure or a timeout compensates the completed steps in reverse order
 * (cancel the shipment, refund, release the stock), then cancels the order.
 */
export const OrderSaga = defineSaga({
  name: 'order',
  startedBy: OrderCreated,
  correlate: (created) => created.data.orderId,
  initial: (created) => ({
    orderId: created.data.orderId,
    customerId: created.data.customerId,
    lines: created.data.lines.map(({ productId, quantity }) => ({ productId, quantity })),
    total: created.data.total,
    currency: created.data.currency,
    paymentId: '',
    failure: '',
  }),
  stepTimeoutMs: 15_000,
})
  .step('reserve-inventory', {
    command: send(ReserveInventory, (order) => ({ orderId: order.orderId, lines: order.lines })),
    success: reply(InventoryReserved),
    failure: reply(InventoryReservationFailed, {
      update: (order, failed) => ({ ...order, failure: failed.data.reason }),
    }),
    compensation: send(ReleaseInventory, (order) => ({ orderId: order.orderId })),
  })
  .step('charge-payment', {
    command: send(ChargePayment, (order) => ({
      orderId: order.orderId,
      customerId: order.customerId,
      amount: order.total,
      currency: order.currency,
    })),
    success: reply(PaymentProcessed, {
      update: (order, paid) => ({ ...order, paymentId: paid.data.paymentId }),
    }),
    failure: reply(PaymentFailed, {
      update: (order, failed) => ({ ...order, failure: `payment failed: ${failed.data.reason}` }),
    }),
    // Without a payment id there is nothing to refund: the participant ignores `none`.
    compensation: send(RefundPayment, (order) => ({
      orderId: order.orderId,
      paymentId: order.paymentId || 'none',
    })),
  })
  .step('create-shipment', {
    command: send(CreateShipment, (order) => ({
      orderId: order.orderId,
      customerId: order.customerId,
    })),
    success: reply(ShipmentStarted),
    compensation: send(CancelShipment, (order) => ({ orderId: order.orderId })),
  })
  .onCompensated(
    send(OrderCancelled, (order) => ({
      orderId: order.orderId,
      reason: order.failure || 'a step timed out',
    })),
  );
