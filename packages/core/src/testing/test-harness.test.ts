import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../contract/define-event';
import { ErrorCodes } from '../errors/error-codes';
import { on } from '../handler/handler';
import { createTestHarness } from './test-harness';
import { waitFor } from './wait-for';

const OrderCreated = defineEvent({
  type: 'order.created',
  schema: z.object({ orderId: z.string() }),
  description: 'x',
});
const PaymentProcessed = defineEvent({
  type: 'payment.processed',
  schema: z.object({ orderId: z.string(), amount: z.number() }),
  description: 'x',
});

describe('createTestHarness', () => {
  it('captures what a service published and waits for a matching event', async () => {
    const harness = createTestHarness({ source: '/services/payment' });
    harness.bus.subscribe({
      group: 'payment',
      handlers: [
        on(OrderCreated, async (event, ctx) => {
          await ctx.publish(PaymentProcessed, { orderId: event.data.orderId, amount: 10 });
        }),
      ],
    });
    await harness.bus.start();
    const order = await harness.bus.publish(OrderCreated, { orderId: 'o-7' });
    const payment = await harness.waitForPublished(
      PaymentProcessed,
      (event) => event.data.orderId === 'o-7',
    );
    expect(payment).toMatchObject({
      source: '/services/payment',
      causationid: order.id,
      data: { orderId: 'o-7', amount: 10 },
    });
    await harness.idle();
    expect(harness.published(OrderCreated).map((event) => event.id)).toEqual([order.id]);
    harness.clear();
    expect(harness.published(PaymentProcessed)).toEqual([]);
    await harness.stop();
  });

  it('shows dead letters and times out with a typed error saying what it waited for', async () => {
    const harness = createTestHarness({ retry: { immediate: 0, delayed: [] } });
    harness.bus.subscribe({
      group: 'broken',
      handlers: [
        on(OrderCreated, () => {
          throw new Error('no');
        }),
      ],
    });
    await harness.bus.start();
    await harness.bus.publish(OrderCreated, { orderId: 'o' });
    await harness.idle();
    expect((await harness.deadLetters('broken')).map((d) => d.info.errorMessage)).toEqual(['no']);
    await expect(
      harness.waitForPublished(PaymentProcessed, undefined, { timeoutMs: 30 }),
    ).rejects.toMatchObject({
      code: ErrorCodes.WAIT_TIMEOUT,
      message: expect.stringContaining('"payment.processed"'),
    });
    await expect(waitFor(() => false, { timeoutMs: 10 })).rejects.toThrow(/a condition/);
    await harness.stop();
  });
});
