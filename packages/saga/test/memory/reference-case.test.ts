import { waitFor } from '@edakit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startMemoryOrderShop } from '../support/memory-order-shop';
import { OrderCreated } from '../support/order-saga';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

const setup = () => startMemoryOrderShop(stops);

const items = [{ sku: 'sku-1', quantity: 2 }];

describe('the order saga (reference case) on memory', () => {
  it('completes when every step succeeds', async () => {
    const { bus, runtime, sentFor } = await setup();
    await bus.publish(OrderCreated, { orderId: 'o-1', items, total: 40 });
    await waitFor(async () => (await runtime.get('order', 'o-1'))?.status === 'completed', {
      timeoutMs: 5000,
    });
    const saga = await runtime.get<{ paymentId?: string }>('order', 'o-1');
    expect(saga).toMatchObject({
      status: 'completed',
      completedSteps: ['reserve-inventory', 'charge-payment', 'create-shipment'],
      definitionVersion: 1,
      data: { paymentId: 'pay-o-1' },
      timeout: undefined,
    });
    await waitFor(() => sentFor('o-1').includes('order.confirmed'), { timeoutMs: 5000 });
    expect(sentFor('o-1')).toEqual([
      'inventory.reserve',
      'inventory.reserved',
      'payment.charge',
      'payment.charged',
      'shipping.create',
      'shipping.created',
      'order.confirmed',
    ]);
  });

  it('releases the inventory and cancels the order when the payment fails', async () => {
    const { bus, runtime, participants, sentFor } = await setup();
    participants.failPayment.add('o-2');
    await bus.publish(OrderCreated, { orderId: 'o-2', items, total: 40 });
    await waitFor(() => sentFor('o-2').includes('order.cancelled'), { timeoutMs: 5000 });
    expect(await runtime.get('order', 'o-2')).toMatchObject({
      status: 'compensated',
      completedSteps: ['reserve-inventory'],
      failure: { step: 'charge-payment', reason: 'failed' },
    });
    expect(sentFor('o-2').slice(-2)).toEqual(['inventory.release', 'order.cancelled']);
    expect(sentFor('o-2')).not.toContain('payment.refund');
    await waitFor(() => participants.received.includes('inventory.release o-2'), {
      timeoutMs: 5000,
    });
  });

  it('refunds then releases, in that order, when shipping times out', async () => {
    const { bus, runtime, participants, clock, sentFor } = await setup();
    participants.silentShipping.add('o-3');
    await bus.publish(OrderCreated, { orderId: 'o-3', items, total: 40 });
    await waitFor(() => participants.received.includes('shipping.create o-3'), { timeoutMs: 5000 });
    expect((await runtime.get('order', 'o-3'))?.status).toBe('running');
    clock.advance(1_999);
    expect(await runtime.fireDueTimeouts()).toBe(0);
    clock.advance(2);
    await waitFor(async () => (await runtime.get('order', 'o-3'))?.status === 'compensated', {
      timeoutMs: 5000,
    });
    await waitFor(() => sentFor('o-3').includes('order.cancelled'), { timeoutMs: 5000 });
    expect(sentFor('o-3').slice(-4)).toEqual([
      'shipping.cancel',
      'payment.refund',
      'inventory.release',
      'order.cancelled',
    ]);
    expect(await runtime.get('order', 'o-3')).toMatchObject({
      failure: { step: 'create-shipment', reason: 'timed-out' },
    });
    await waitFor(() => participants.received.includes('payment.refund(pay-o-3) o-3'), {
      timeoutMs: 5000,
    });
  });
});
