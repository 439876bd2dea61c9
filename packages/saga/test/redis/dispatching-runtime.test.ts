/**
 * The runtime over the Redis store publishes a transition's commands itself;
 * these cases take that path away from it (a failing publish, a runtime that
 * never gets to publish, a publish that stalls while a timer fires elsewhere)
 * and check that every command still goes out, once, in order.
 */
import {
  createBus,
  InMemoryTransport,
  MemoryBroker,
  type OutgoingMessage,
  type Transport,
} from '@edakit/core';
import { CapturingTransport, waitFor } from '@edakit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createSagaRuntime, type SagaDefinition, type SagaRuntime, VirtualClock } from '../../src';
import type { RedisSagaStore } from '../../src/redis/redis-saga-store';
import { OrderCreated, OrderSaga, subscribeParticipants } from '../support/order-saga';
import { useRedisSagaStores } from '../support/redis';

const redis = useRedisSagaStores();
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await redis.release();
});

const items = [{ sku: 'sku-1', quantity: 1 }];

/** Holds back the publishes that `held` picks until `open()`, or fails them with `fail()`. */
class GatedTransport extends CapturingTransport {
  private settle: { open(): void; fail(error: Error): void } = { open() {}, fail() {} };
  private readonly gate = new Promise<void>((resolve, reject) => {
    this.settle = { open: resolve, fail: reject };
  });

  constructor(
    inner: Transport,
    private readonly held: (message: OutgoingMessage) => boolean,
  ) {
    super(inner);
  }

  override async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.some(this.held)) await this.gate;
    await super.publish(messages);
  }

  open(): void {
    this.settle.open();
  }

  fail(): void {
    this.settle.fail(new Error('the broker went away'));
  }
}

/** Fails the first publish of every message; a second attempt goes through. */
class FirstAttemptFails extends CapturingTransport {
  private readonly seen = new Set<string>();
  failures = 0;

  override async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    const fresh = messages.filter((message) => !this.seen.has(message.message.headers.ce_id ?? ''));
    for (const message of messages) this.seen.add(message.message.headers.ce_id ?? '');
    if (fresh.length > 0) {
      this.failures += 1;
      throw new Error('the broker refused the batch');
    }
    await super.publish(messages);
  }
}

async function start(
  store: RedisSagaStore,
  transport: Transport,
  options: { clock?: VirtualClock; relayTransport?: Transport; timeoutPollMs?: number } = {},
): Promise<{ bus: ReturnType<typeof createBus>; runtime: SagaRuntime }> {
  const bus = createBus({
    transport,
    source: '/dispatching-runtime-test',
    retry: { immediate: 0, delayed: [10, 10, 10] },
  });
  const runtime = createSagaRuntime({
    bus,
    transport: options.relayTransport ?? transport,
    store,
    sagas: [OrderSaga as SagaDefinition<unknown>],
    clock: options.clock ?? new VirtualClock(),
    timeoutPollMs: options.timeoutPollMs ?? 50,
    relay: { pollIntervalMs: 20, retry: { initialDelayMs: 20 } },
  });
  await runtime.start();
  await bus.start();
  stops.push(
    () => bus.stop(),
    () => runtime.stop(),
  );
  return { bus, runtime };
}

const commands = ['inventory.reserve', 'payment.charge', 'shipping.create', 'order.confirmed'];

/** The saga's commands published for one order, in publish order. */
const typesFor = (messages: readonly OutgoingMessage[], orderId: string) =>
  messages
    .filter((message) => message.message.key === orderId && commands.includes(message.type))
    .map((message) => message.type);

describe('the runtime over the Redis store, when it cannot publish a transition itself', () => {
  it('hands commands it failed to publish to the outbox relay: every saga ends, every command goes out once', async () => {
    const store = await redis.openAt(redis.prefix('publish-fails'));
    const transport = new CapturingTransport(new InMemoryTransport());
    // Only the runtime's publishes fail (its own, then the relay's first try).
    const failing = new FirstAttemptFails(transport);
    const { bus, runtime } = await start(store, transport, { relayTransport: failing });
    subscribeParticipants(bus);
    const orders = Array.from({ length: 20 }, (_, i) => `f-${i}`);
    await Promise.all(
      orders.map((orderId) => bus.publish(OrderCreated, { orderId, items, total: 5 })),
    );
    await waitFor(
      async () =>
        (await runtime.find({ saga: 'order', status: 'completed', limit: 100 })).length === 20,
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    await waitFor(() => orders.every((id) => typesFor(transport.captured, id).length === 4), {
      timeoutMs: 5000,
    });
    for (const orderId of orders) expect(typesFor(transport.captured, orderId)).toEqual(commands);
    // The runtime's own publishes failed; the relay published every command.
    expect(failing.failures).toBeGreaterThan(0);
    expect(runtime.relay.metrics().published).toBe(20 * 4);
  });

  it('publishes the commands of a runtime that died before publishing them once their lease runs out (from another runtime)', async () => {
    const prefix = redis.prefix('died');
    // The runtime that dies: it stores the first transition, its publish never returns.
    const dying = new GatedTransport(new InMemoryTransport(), (message) =>
      commands.includes(message.type),
    );
    const first = await start(await redis.openAt(prefix, { sendLeaseMs: 300 }), dying);
    try {
      await first.bus.publish(OrderCreated, { orderId: 'o-died', items, total: 5 });
      await waitFor(async () => (await first.runtime.get('order', 'o-died')) !== undefined, {
        timeoutMs: 5000,
      });
      // Dead: it publishes nothing any more, neither itself nor through its relay.
      await first.runtime.relay.stop();
      // Another runtime over the same data, on a broker of its own with the participants.
      const broker = new MemoryBroker();
      const transport = new CapturingTransport(new InMemoryTransport({ broker }));
      const second = await start(await redis.openAt(prefix, { sendLeaseMs: 300 }), transport);
      subscribeParticipants(second.bus);
      await waitFor(
        async () => (await second.runtime.get('order', 'o-died'))?.status === 'completed',
        { timeoutMs: 10_000, intervalMs: 50 },
      );
      await waitFor(() => typesFor(transport.captured, 'o-died').length === 4, {
        timeoutMs: 5000,
      });
      expect(typesFor(transport.captured, 'o-died')).toEqual(commands);
      // The first runtime's stalled publish fails at last: nothing goes out twice.
      dying.fail();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(typesFor(transport.captured, 'o-died')).toEqual(commands);
      expect(typesFor(dying.captured, 'o-died')).toEqual([]);
    } finally {
      dying.fail();
    }
  });

  it('keeps the order of one saga: compensations of a timeout fired elsewhere wait for the stalled command before them', async () => {
    const prefix = redis.prefix('order');
    const broker = new MemoryBroker();
    const log: string[] = [];
    const logging = new (class extends CapturingTransport {
      override async publish(messages: readonly OutgoingMessage[]): Promise<void> {
        await super.publish(messages);
        for (const message of messages) log.push(message.type);
      }
    })(new InMemoryTransport({ broker }));
    // The first runtime's publish of the reservation stalls; its clock never moves.
    const stalled = new GatedTransport(logging, (message) => message.type === 'inventory.reserve');
    const first = await start(await redis.openAt(prefix), stalled);
    try {
      await first.bus.publish(OrderCreated, { orderId: 'o-late', items, total: 5 });
      await waitFor(async () => (await first.runtime.get('order', 'o-late')) !== undefined, {
        timeoutMs: 5000,
      });
      // A second runtime fires the reservation's timeout: compensate, then cancel.
      const clock = new VirtualClock();
      const second = await start(await redis.openAt(prefix), logging, { clock });
      clock.advance(5_001);
      await waitFor(
        async () => (await second.runtime.get('order', 'o-late'))?.status === 'compensated',
        { timeoutMs: 5000 },
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Its commands wait behind the stalled one instead of overtaking it.
      expect(log.filter((type) => type !== 'order.created')).toEqual([]);
      stalled.open();
      await waitFor(() => log.includes('order.cancelled'), { timeoutMs: 5000 });
      expect(log.filter((type) => type !== 'order.created')).toEqual([
        'inventory.reserve',
        'inventory.release',
        'order.cancelled',
      ]);
    } finally {
      stalled.open();
    }
  });
});
