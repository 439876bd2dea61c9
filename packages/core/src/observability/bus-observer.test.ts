import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createBus } from '../bus/create-bus';
import { defineEvent } from '../contract/define-event';
import { ErrorCodes } from '../errors/error-codes';
import { NonRetryableError } from '../errors/handling-errors';
import { on } from '../handler/handler';
import { InMemoryTransport } from '../memory/in-memory-transport';
import { MemoryBroker } from '../memory/memory-broker';
import { waitFor } from '../testing/wait-for';
import type {
  BusObserver,
  DeadLetterObservation,
  HandlerObservation,
  PublishObservation,
  RetryObservation,
} from './bus-observer';

const ItemAdded = defineEvent({
  type: 'cart.item-added',
  schema: z.object({ cartId: z.string(), sku: z.string() }),
  description: 'An item went into a cart',
  partitionKey: (item) => item.cartId,
});

function recorder() {
  const seen = {
    publishes: [] as PublishObservation[],
    attempts: [] as HandlerObservation[],
    retries: [] as RetryObservation[],
    deadLetters: [] as DeadLetterObservation[],
  };
  const observer: BusObserver = {
    onPublish: (observation) => void seen.publishes.push(observation),
    onHandlerAttempt: (observation) => void seen.attempts.push(observation),
    onRetry: (observation) => void seen.retries.push(observation),
    onDeadLetter: (observation) => void seen.deadLetters.push(observation),
  };
  return { seen, observer };
}

describe('bus observers', () => {
  it('see each publish call with its events and duration, and stop seeing once detached', async () => {
    const bus = createBus({ transport: new InMemoryTransport(), source: '/services/cart' });
    const { seen, observer } = recorder();
    const detach = bus.observe(observer);
    const one = await bus.publish(ItemAdded, { cartId: 'c-1', sku: 'a' });
    await bus.publishBatch([
      bus.prepare(ItemAdded, { cartId: 'c-1', sku: 'b' }),
      bus.prepare(ItemAdded, { cartId: 'c-2', sku: 'c' }),
    ]);
    expect(seen.publishes.map((p) => p.events.length)).toEqual([1, 2]);
    expect(seen.publishes[0]?.events[0]?.id).toBe(one.id);
    expect(seen.publishes.every((p) => p.error === undefined && p.durationMs >= 0)).toBe(true);
    detach();
    detach(); // idempotent
    await bus.publish(ItemAdded, { cartId: 'c-3', sku: 'd' });
    expect(seen.publishes).toHaveLength(2);
  });

  it('see a refused publish with its error, and the publish still rejects as before', async () => {
    const transport = new InMemoryTransport();
    transport.publish = async () => {
      throw new Error('broker said no');
    };
    const bus = createBus({ transport, source: '/services/cart' });
    const { seen, observer } = recorder();
    bus.observe(observer);
    const error = await bus.publish(ItemAdded, { cartId: 'c', sku: 'a' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.PUBLISH_FAILED });
    expect(seen.publishes).toHaveLength(1);
    expect(seen.publishes[0]?.error).toMatchObject({ message: 'broker said no' });
  });

  it('see every attempt, immediate and delayed retries, and the dead letter with its reason', async () => {
    const bus = createBus({ transport: new InMemoryTransport(), source: '/services/cart' });
    const { seen, observer } = recorder();
    bus.observe(observer);
    let calls = 0;
    bus.subscribe({
      group: 'pricing',
      retry: { immediate: 1, delayed: [5] },
      handlers: [
        on(ItemAdded, () => {
          calls++;
          throw new Error(`failure ${calls}`);
        }),
      ],
    });
    await bus.start();
    await bus.publish(ItemAdded, { cartId: 'c', sku: 'a' });
    await waitFor(() => seen.deadLetters.length === 1);
    // Two deliveries (first, then one delayed retry), two attempts each.
    expect(seen.attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    expect(seen.attempts.every((a) => a.error instanceof Error)).toBe(true);
    expect(seen.attempts[0]).toMatchObject({
      group: 'pricing',
      handler: 'pricing/cart.item-added',
      type: 'cart.item-added',
      channel: 'cart',
    });
    expect(seen.retries.map((r) => r.kind)).toEqual(['immediate', 'delayed', 'immediate']);
    expect(seen.retries[1]).toMatchObject({ delayMs: 5, type: 'cart.item-added' });
    expect(seen.deadLetters[0]).toMatchObject({
      group: 'pricing',
      handler: 'pricing/cart.item-added',
      type: 'cart.item-added',
      reason: ErrorCodes.RETRIES_EXHAUSTED,
    });
    await bus.stop();
  });

  it('give no type for a dead letter whose type no contract declares', async () => {
    const broker = new MemoryBroker({ routing: 'channel' });
    const transport = new InMemoryTransport({ broker });
    const bus = createBus({ transport, source: '/services/cart' });
    const { seen, observer } = recorder();
    bus.observe(observer);
    bus.subscribe({ group: 'pricing', handlers: [on(ItemAdded, () => undefined)] });
    await bus.start();
    const { outgoing } = bus.prepare(ItemAdded, { cartId: 'c', sku: 'a' });
    await transport.publish([
      {
        ...outgoing,
        type: 'cart.item-added-by-attacker-7f3a',
        message: {
          ...outgoing.message,
          headers: { ...outgoing.message.headers, ce_type: 'cart.item-added-by-attacker-7f3a' },
        },
      },
    ]);
    await waitFor(() => seen.deadLetters.length === 1);
    expect(seen.deadLetters[0]).toMatchObject({ reason: ErrorCodes.UNKNOWN_EVENT });
    expect(seen.deadLetters[0]?.type).toBeUndefined();
    await bus.stop();
  });

  it('cannot change an event’s fate by throwing', async () => {
    const transport = new InMemoryTransport();
    const bus = createBus({ transport, source: '/services/cart' });
    const fail = (): void => {
      throw new Error('observer bug');
    };
    bus.observe({ onPublish: fail, onHandlerAttempt: fail, onRetry: fail, onDeadLetter: fail });
    const handled: string[] = [];
    bus.subscribe({
      group: 'pricing',
      retry: { immediate: 1, delayed: [] },
      handlers: [
        on(ItemAdded, (event) => {
          if (event.data.sku === 'bad') throw new NonRetryableError('no price');
          if (event.data.sku === 'flaky' && handled.length === 1) {
            handled.push('flaky failed once');
            throw new Error('flaky');
          }
          handled.push(event.data.sku);
        }),
      ],
    });
    await bus.start();
    await bus.publish(ItemAdded, { cartId: 'c', sku: 'ok' });
    await bus.publish(ItemAdded, { cartId: 'c', sku: 'flaky' });
    await bus.publish(ItemAdded, { cartId: 'c', sku: 'bad' });
    const deadLetters = await waitFor(async () => {
      const list = await transport.listDeadLetters({ group: 'pricing' });
      return list.length > 0 ? list : undefined;
    });
    expect(deadLetters.map((d) => d.info.reason)).toEqual([ErrorCodes.NON_RETRYABLE]);
    expect(handled).toEqual(['ok', 'flaky failed once', 'flaky']);
    await bus.stop();
  });
});
