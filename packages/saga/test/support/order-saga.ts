import { type Bus, defineEvent, on } from '@edakit/core';
import { z } from 'zod';
import { defineSaga, reply, send } from '../../src';

const orderId = z.string().min(1);
const byOrder = <T extends { orderId: string }>(data: T) => data.orderId;
const event = <S extends z.ZodObject<{ orderId: typeof orderId }>>(
  type: string,
  description: string,
  schema: S,
) => defineEvent({ type, version: 1, description, schema, partitionKey: byOrder });

export const OrderCreated = event(
  'order.created',
  'An order was placed.',
  z.object({
    orderId,
    items: z.array(z.object({ sku: z.string(), quantity: z.number().int().positive() })),
    total: z.number(),
  }),
);
export const ReserveInventory = event(
  'inventory.reserve',
  'Command: reserve the items of an order.',
  z.object({ orderId, items: z.array(z.object({ sku: z.string(), quantity: z.number().int() })) }),
);
export const InventoryReserved = event(
  'inventory.reserved',
  'Reply: items reserved.',
  z.object({ orderId }),
);
export const InventoryReservationFailed = event(
  'inventory.reservation-failed',
  'Reply: items could not be reserved.',
  z.object({ orderId, reason: z.string() }),
);
export const ReleaseInventory = event(
  'inventory.release',
  'Command: release a reservation.',
  z.object({ orderId }),
);
export const ChargePayment = event(
  'payment.charge',
  'Command: charge an order.',
  z.object({ orderId, amount: z.number() }),
);
export const PaymentCharged = event(
  'payment.charged',
  'Reply: charged.',
  z.object({ orderId, paymentId: z.string() }),
);
export const PaymentFailed = event(
  'payment.failed',
  'Reply: the charge failed.',
  z.object({ orderId, reason: z.string() }),
);
export const RefundPayment = event(
  'payment.refund',
  'Command: refund a charge.',
  z.object({ orderId, paymentId: z.string() }),
);
export const CreateShipment = event(
  'shipping.create',
  'Command: ship an order.',
  z.object({ orderId }),
);
export const ShipmentCreated = event(
  'shipping.created',
  'Reply: shipment created.',
  z.object({ orderId, trackingId: z.string() }),
);
export const CancelShipment = event(
  'shipping.cancel',
  'Command: cancel a shipment.',
  z.object({ orderId }),
);
export const OrderConfirmed = event(
  'order.confirmed',
  'The order saga completed.',
  z.object({ orderId }),
);
export const OrderCancelled = event(
  'order.cancelled',
  'The order saga gave up.',
  z.object({ orderId, reason: z.string() }),
);

/** The order saga; a test that must see no timeout passes longer ones. */
export function orderSaga(timeouts: { stepTimeoutMs?: number; shippingTimeoutMs?: number } = {}) {
  return defineSaga({
    name: 'order',
    startedBy: OrderCreated,
    correlate: (created) => created.data.orderId,
    initial: (created) => ({
      orderId: created.data.orderId,
      items: created.data.items,
      total: created.data.total,
      paymentId: undefined as string | undefined,
    }),
    stepTimeoutMs: timeouts.stepTimeoutMs ?? 5_000,
  })
    .step('reserve-inventory', {
      command: send(ReserveInventory, (order) => ({ orderId: order.orderId, items: order.items })),
      success: reply(InventoryReserved),
      failure: reply(InventoryReservationFailed),
      compensation: send(ReleaseInventory, (order) => ({ orderId: order.orderId })),
    })
    .step('charge-payment', {
      command: send(ChargePayment, (order) => ({ orderId: order.orderId, amount: order.total })),
      success: reply(PaymentCharged, {
        update: (order, charged) => ({ ...order, paymentId: charged.data.paymentId }),
      }),
      failure: reply(PaymentFailed),
      compensation: send(RefundPayment, (order) => ({
        orderId: order.orderId,
        paymentId: order.paymentId ?? 'none',
      })),
    })
    .step('create-shipment', {
      command: send(CreateShipment, (order) => ({ orderId: order.orderId })),
      success: reply(ShipmentCreated),
      compensation: send(CancelShipment, (order) => ({ orderId: order.orderId })),
      timeoutMs: timeouts.shippingTimeoutMs ?? 2_000,
    })
    .onCompleted(send(OrderConfirmed, (order) => ({ orderId: order.orderId })))
    .onCompensated(
      send(OrderCancelled, (order) => ({ orderId: order.orderId, reason: 'saga compensated' })),
    );
}

export const OrderSaga = orderSaga();

/** What the fake participants saw and how they should behave next. */
export interface Participants {
  readonly received: string[];
  /** Order ids whose payment fails. */
  readonly failPayment: Set<string>;
  /** Order ids whose shipment never answers (the step times out). */
  readonly silentShipping: Set<string>;
}

/** Inventory, payment and shipping services that answer the saga's commands. */
export function subscribeParticipants(
  bus: Bus,
  startFrom: 'latest' | 'earliest' = 'latest',
): Participants {
  const state: Participants = { received: [], failPayment: new Set(), silentShipping: new Set() };
  const note = (type: string, id: string) => state.received.push(`${type} ${id}`);
  bus.subscribe({
    group: 'inventory',
    startFrom,
    handlers: [
      on(ReserveInventory, async (command, ctx) => {
        note(command.type, command.data.orderId);
        await ctx.publish(InventoryReserved, { orderId: command.data.orderId });
      }),
      on(ReleaseInventory, (command) => note(command.type, command.data.orderId)),
    ],
  });
  bus.subscribe({
    group: 'payment',
    startFrom,
    handlers: [
      on(ChargePayment, async (command, ctx) => {
        note(command.type, command.data.orderId);
        if (state.failPayment.has(command.data.orderId)) {
          await ctx.publish(PaymentFailed, {
            orderId: command.data.orderId,
            reason: 'card declined',
          });
        } else {
          await ctx.publish(PaymentCharged, {
            orderId: command.data.orderId,
            paymentId: `pay-${command.data.orderId}`,
          });
        }
      }),
      on(RefundPayment, (command) =>
        note(`${command.type}(${command.data.paymentId})`, command.data.orderId),
      ),
    ],
  });
  bus.subscribe({
    group: 'shipping',
    startFrom,
    handlers: [
      on(CreateShipment, async (command, ctx) => {
        note(command.type, command.data.orderId);
        if (state.silentShipping.has(command.data.orderId)) return;
        await ctx.publish(ShipmentCreated, {
          orderId: command.data.orderId,
          trackingId: `t-${command.data.orderId}`,
        });
      }),
      on(CancelShipment, (command) => note(command.type, command.data.orderId)),
    ],
  });
  return state;
}
