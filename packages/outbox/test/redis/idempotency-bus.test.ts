import {
  createBus,
  type EventEnvelope,
  InMemoryTransport,
  idempotency,
  MemoryBroker,
  on,
} from '@edakit/core';
import { waitFor } from '@edakit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisIdempotencyStore } from '../../src/redis/redis-idempotency-store';
import { sleep, TestEvent, useRedis } from '../support/redis';

const redis = useRedis();
const buses: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.stop()));
});

async function consumer(
  broker: MemoryBroker,
  keyPrefix: string,
  effects: string[],
  handle: (event: EventEnvelope<{ key: string; n: number }>) => Promise<void> = async () => {},
  statuses: string[] = [],
) {
  const store = new RedisIdempotencyStore({ client: await redis.client(), keyPrefix });
  const acquire = store.acquire.bind(store);
  store.acquire = async (key, leaseMs) => {
    const result = await acquire(key, leaseMs);
    statuses.push(result.status);
    return result;
  };
  const bus = createBus({
    transport: new InMemoryTransport({ broker }),
    source: '/tests/consumer',
    middleware: [idempotency({ store, leaseMs: 5_000 })],
  });
  bus.subscribe({
    group: 'billing',
    // An event in flight elsewhere comes back later, not in a hot loop.
    retry: { immediate: 0, delayed: [200, 200, 200] },
    handlers: [
      on(TestEvent, async (event) => {
        await handle(event);
        effects.push(`${event.data.key}:${event.data.n}`);
      }),
    ],
  });
  await bus.start();
  buses.push(bus);
  return bus;
}

describe('core idempotency middleware with RedisIdempotencyStore', () => {
  it('runs the handler once when the same event id is delivered twice', async () => {
    const broker = new MemoryBroker();
    const effects: string[] = [];
    const bus = await consumer(broker, redis.prefix('bus-dup'), effects);
    const prepared = bus.prepare(TestEvent, { key: 'order-1', n: 1 });
    await bus.publishBatch([prepared]);
    await bus.publishBatch([prepared]); // the redelivery: same id
    await bus.publish(TestEvent, { key: 'order-2', n: 1 });
    await waitFor(() => effects.length === 2, { description: 'two effects' });
    await sleep(200);
    expect(effects).toEqual(['order-1:1', 'order-2:1']);
  });

  it('runs the handler once when copies of each event reach two consumer instances at the same time', async () => {
    const keyPrefix = redis.prefix('bus-instances');
    const effects: string[] = [];
    const statuses: string[] = [];
    // A slow handler, so the copies overlap. Two brokers deliver the same events
    // (as after a producer's retry) to two instances of one group.
    const slow = () => sleep(100);
    const a = await consumer(new MemoryBroker(), keyPrefix, effects, slow, statuses);
    const b = await consumer(new MemoryBroker(), keyPrefix, effects, slow, statuses);
    const events = Array.from({ length: 20 }, (_, n) => a.prepare(TestEvent, { key: `k-${n}`, n }));
    await Promise.all([a.publishBatch(events), b.publishBatch(events)]);
    const count = (status: string) => statuses.filter((s) => s === status).length;
    // Each of the 40 deliveries ends processed or recognised as a duplicate.
    await waitFor(() => count('acquired') + count('done') === 40, {
      timeoutMs: 10_000,
      description: 'every copy settled',
    });
    await sleep(300);
    console.log(
      `two instances: ${count('acquired')} acquired, ${count('in-flight')} in-flight, ${count('done')} done`,
    );
    expect(count('acquired')).toBe(20);
    expect(count('done')).toBe(20);
    // The copies did overlap: some were turned away (in-flight) while the first ran.
    expect(count('in-flight')).toBeGreaterThan(0);
    expect(effects.sort()).toEqual(
      events.map((e) => `${e.envelope.data.key}:${e.envelope.data.n}`).sort(),
    );
  });

  it('rdd-2 through the bus: a handler that throws releases the key and its retry runs', async () => {
    const broker = new MemoryBroker();
    const effects: string[] = [];
    let calls = 0;
    const bus = await consumer(broker, redis.prefix('bus-throw'), effects, async () => {
      calls += 1;
      if (calls === 1) throw new Error('first attempt fails');
    });
    const prepared = bus.prepare(TestEvent, { key: 'order-1', n: 1 });
    await bus.publishBatch([prepared]);
    await waitFor(() => effects.length === 1, { description: 'the retried effect' });
    await bus.publishBatch([prepared]);
    await sleep(200);
    expect(calls).toBe(2);
    expect(effects).toEqual(['order-1:1']);
  });
});
