/**
 * The Redis store's leases (DispatchingSagaStore): a runtime's write leaves
 * its commands with the runtime, which publishes them itself; the store's
 * outbox gets them only when that runtime cannot (a failed publish, a lease
 * that ran out), and one instance's commands keep their order throughout.
 */
import { createBus, InMemoryTransport, type PreparedEvent } from '@edakit/core';
import { describe, expect, it } from 'vitest';
import type { DispatchedWrite, SagaInstance, SendLease } from '../../src';
import type { RedisSagaStore } from '../../src/redis/redis-saga-store';
import { keysUnder, useRedisSagaStores } from '../support/redis';
import { Ping, T0, tickInstance } from '../support/tick-saga';

const redis = useRedisSagaStores();

const producer = createBus({ transport: new InMemoryTransport(), source: '/leased-commands-test' });
const ping = (counter: string, step: number): PreparedEvent =>
  producer.prepare(Ping, { counter, step });

/** A tick instance with a reply timer (a token per version), as the runtime writes them. */
const instance = (id: string, patch: Partial<SagaInstance> = {}): SagaInstance =>
  tickInstance(id, {
    timeout: { token: `t-${patch.version ?? 1}`, dueAt: T0 + 60_000, kind: 'reply' },
    ...patch,
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function leaseOf(written: DispatchedWrite): SendLease {
  if (written === false || written.lease === undefined) {
    throw new Error(`expected a lease, got ${JSON.stringify(written)}`);
  }
  return written.lease;
}

/** Envelope ids in the store's outbox, in claim order (claimed and settled as published). */
async function relayed(store: RedisSagaStore): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const claim = await store.outbox.claim({ limit: 1000, leaseMs: 60_000 });
    if (claim === undefined) return ids;
    ids.push(...claim.records.map((record) => record.id));
    await store.outbox.settle(claim, { published: claim.records, failed: [] });
  }
}

const idsOf = (sends: readonly PreparedEvent[]) => sends.map((send) => send.envelope.id);

/** Keys of the leases (sends index and lease sets) under a store's prefix. */
async function leaseKeys(store: RedisSagaStore): Promise<string[]> {
  const admin = await redis.client();
  const keys = await keysUnder(admin, store.keys.prefix);
  return keys
    .map((key) => key.slice(store.keys.prefix.length))
    .filter((key) => key === 'sends' || key.startsWith('lease:'));
}

describe('RedisSagaStore leases a transition commands to the runtime that wrote it', () => {
  it('leaves nothing in the outbox when the writer publishes them and settles the lease', async () => {
    const store = await redis.openAt(redis.prefix('published'));
    let signals = 0;
    const off = store.commits.subscribe(() => {
      signals += 1;
    });
    const sends = [ping('c-1', 1), ping('c-1', 2)];
    const written = await store.doWrite('create', instance('c-1'), sends);
    expect(written).toMatchObject({ stored: { id: 'c-1', version: 1 } });
    const lease = leaseOf(written);
    // Leased: not the outbox's to publish, and the lease is indexed for a sweep.
    expect(await relayed(store)).toEqual([]);
    expect(await leaseKeys(store)).toContain('sends');
    await lease.settle(true);
    expect(await leaseKeys(store)).toEqual([]);
    expect(await relayed(store)).toEqual([]);
    expect(await store.doSweepSends(100)).toBe(0);
    // A second settle of the same lease changes nothing.
    await lease.settle(false);
    expect(await relayed(store)).toEqual([]);
    expect(signals).toBe(0);
    off();
    expect(await store.load('tick', 'c-1')).toMatchObject({ version: 1, status: 'running' });
  });

  it('sends the commands of a failed publish to the outbox, then those queued behind them, in order', async () => {
    const prefix = redis.prefix('failed');
    const first = await redis.openAt(prefix);
    const replica = await redis.openAt(prefix);
    const v1 = [ping('c-2', 1), ping('c-2', 2)];
    const lease = leaseOf(await first.doWrite('create', instance('c-2'), v1));
    // Another runtime writes the next transition meanwhile: it must not overtake v1.
    const v2 = [ping('c-2', 3)];
    const written = await replica.doWrite('update', instance('c-2', { version: 2, step: 1 }), v2);
    expect(written).toMatchObject({ stored: { version: 2 }, lease: undefined });
    expect(await relayed(first)).toEqual([]);
    let signals = 0;
    first.commits.subscribe(() => {
      signals += 1;
    });
    await lease.settle(false);
    expect(signals).toBe(1);
    const claim = await first.outbox.claim({ limit: 10, leaseMs: 60_000 });
    expect(claim?.records.map((record) => [record.id, record.key, record.sequence])).toEqual([
      [v1[0]?.envelope.id, 'c-2', 1],
      [v1[1]?.envelope.id, 'c-2', 2],
      [v2[0]?.envelope.id, 'c-2', 3],
    ]);
    expect(claim?.records[0]).toMatchObject({
      channel: v1[0]?.outgoing.channel,
      type: 'tick.ping',
      headers: v1[0]?.outgoing.message.headers,
    });
    expect(
      Buffer.from(claim?.records[0]?.body ?? []).equals(
        Buffer.from(v1[0]?.outgoing.message.body ?? []),
      ),
    ).toBe(true);
    expect(await leaseKeys(first)).toEqual([]);
  });

  it('sends commands queued behind a lease to the outbox once it ends; the leased ones were published', async () => {
    const prefix = redis.prefix('queued');
    const first = await redis.openAt(prefix);
    const replica = await redis.openAt(prefix);
    const v1 = [ping('c-3', 1)];
    const lease = leaseOf(await first.doWrite('create', instance('c-3'), v1));
    const v2 = [ping('c-3', 2)];
    const v3 = [ping('c-3', 3)];
    expect(await replica.doWrite('update', instance('c-3', { version: 2 }), v2)).toMatchObject({
      lease: undefined,
    });
    // A transition without commands leaves the queue as it is.
    expect(await replica.doWrite('update', instance('c-3', { version: 3 }), [])).toMatchObject({
      lease: undefined,
    });
    expect(await replica.doWrite('update', instance('c-3', { version: 4 }), v3)).toMatchObject({
      lease: undefined,
    });
    expect(await relayed(first)).toEqual([]);
    await lease.settle(true);
    expect(await relayed(first)).toEqual([...idsOf(v2), ...idsOf(v3)]);
    expect(await leaseKeys(first)).toEqual([]);
  });

  it('moves a lease that ran out (its runtime died) to the outbox at the next sweep; a late settle changes nothing', async () => {
    const prefix = redis.prefix('ran-out');
    const dead = await redis.openAt(prefix, { sendLeaseMs: 200 });
    const survivor = await redis.openAt(prefix, { sendLeaseMs: 200 });
    const v1 = [ping('c-4', 1), ping('c-4', 2)];
    const other = [ping('c-5', 1)];
    // Written in the same turn: one lease covers both.
    const [first, second] = await Promise.all([
      dead.doWrite('create', instance('c-4'), v1),
      dead.doWrite('create', instance('c-5'), other),
    ]);
    const lease = leaseOf(first);
    leaseOf(second);
    expect(await survivor.doSweepSends(100)).toBe(0);
    expect(await relayed(survivor)).toEqual([]);
    await sleep(300);
    let signals = 0;
    survivor.commits.subscribe(() => {
      signals += 1;
    });
    expect(await survivor.doSweepSends(100)).toBe(1);
    expect(signals).toBe(1);
    expect((await relayed(survivor)).sort()).toEqual([...idsOf(v1), ...idsOf(other)].sort());
    await lease.settle(true);
    await lease.settle(false);
    expect(await relayed(survivor)).toEqual([]);
    expect(await leaseKeys(survivor)).toEqual([]);
  });

  it("puts a later transition's commands behind its earlier ones still in the outbox, and leases again once they were published", async () => {
    const prefix = redis.prefix('behind');
    const store = await redis.openAt(prefix);
    const replica = await redis.openAt(prefix);
    const v1 = [ping('c-6', 1)];
    const v2 = [ping('c-6', 2)];
    const lease = leaseOf(await store.doWrite('create', instance('c-6'), v1));
    await replica.doWrite('update', instance('c-6', { version: 2 }), v2);
    await lease.settle(false);
    // v1 and v2 wait in the outbox, unpublished: v3 goes there too, behind them.
    const v3 = [ping('c-6', 3)];
    expect(await store.doWrite('update', instance('c-6', { version: 3 }), v3)).toMatchObject({
      lease: undefined,
    });
    expect(await relayed(store)).toEqual([...idsOf(v1), ...idsOf(v2), ...idsOf(v3)]);
    const v4 = [ping('c-6', 4)];
    const again = leaseOf(await store.doWrite('update', instance('c-6', { version: 4 }), v4));
    await again.settle(true);
    expect(await relayed(store)).toEqual([]);
  });

  it('keeps no commands in a tombstone once its last lease ended', async () => {
    const store = await redis.openAt(redis.prefix('tombstone'));
    const admin = await redis.client();
    await store.doWrite('create', instance('c-7'), []);
    const lease = leaseOf(
      await store.doWrite(
        'update',
        instance('c-7', { version: 2, status: 'completed', timeout: undefined }),
        [ping('c-7', 9)],
      ),
    );
    const key = store.keys.instance('tick', 'c-7');
    expect(await admin.hexists(key, 'p')).toBe(1);
    await lease.settle(true);
    expect((await admin.hkeys(key)).sort()).toEqual(['j', 's', 'v']);
    expect(await store.load('tick', 'c-7')).toMatchObject({ status: 'completed', version: 2 });
  });

  it('moves a body that is not UTF-8 to the outbox byte for byte', async () => {
    const store = await redis.openAt(redis.prefix('bytes'));
    const prepared = ping('c-8', 1);
    const body = new Uint8Array([0xff, 0x00, 0xfe, 0x80, 0x0d, 0x0a, 0x24]);
    const binary: PreparedEvent = {
      ...prepared,
      outgoing: { ...prepared.outgoing, message: { ...prepared.outgoing.message, body } },
    };
    const lease = leaseOf(await store.doWrite('create', instance('c-8'), [binary]));
    await lease.settle(false);
    const claim = await store.outbox.claim({ limit: 10, leaseMs: 60_000 });
    expect([...(claim?.records[0]?.body ?? [])]).toEqual([...body]);
  });

  it('answers each write of one turn on its own: a conflict or a faulty write fails alone', async () => {
    const prefix = redis.prefix('turn');
    const store = await redis.openAt(prefix);
    const admin = await redis.client();
    const ids = Array.from({ length: 300 }, (_, i) => `b-${i}`);
    await Promise.all(ids.map((id) => store.doWrite('create', instance(id), [ping(id, 1)])));
    // Something else took the compensated index of the saga: finishing there fails.
    await admin.set(store.keys.status('tick', 'compensated'), 'not a sorted set');
    const results = await Promise.allSettled(
      ids.map((id, i) =>
        store.doWrite(
          'update',
          instance(id, {
            version: i === 1 ? 7 : 2,
            status: i === 2 ? 'compensated' : 'running',
            timeout: i === 2 ? undefined : instance(id).timeout,
          }),
          [ping(id, 2)],
        ),
      ),
    );
    expect(results[1]).toEqual({ status: 'fulfilled', value: false });
    expect(results[2]).toMatchObject({
      status: 'rejected',
      reason: { message: expect.stringContaining('WRONGTYPE') },
    });
    const written = results.filter((r) => r.status === 'fulfilled' && r.value !== false);
    expect(written).toHaveLength(298);
    expect(await store.load('tick', 'b-2')).toMatchObject({ version: 1, status: 'running' });
    expect(await store.load('tick', 'b-299')).toMatchObject({ version: 2 });
  });

  it('reports the instance as a load returns it: data through JSON', async () => {
    const store = await redis.openAt(redis.prefix('stored'));
    const data = {
      labels: ['a'],
      gone: undefined,
      when: new Date(T0),
      nested: { list: [1, null, 'x'] },
    };
    const written = await store.doWrite('create', instance('c-9', { data }), []);
    expect(written).not.toBe(false);
    const loaded = await store.load('tick', 'c-9');
    expect(written === false ? undefined : written.stored).toStrictEqual(loaded);
    expect(loaded?.data).toStrictEqual({
      labels: ['a'],
      when: new Date(T0).toISOString(),
      nested: { list: [1, null, 'x'] },
    });
    const failed = await store.doWrite(
      'update',
      instance('c-9', {
        version: 2,
        status: 'compensated',
        failure: { step: 's', reason: 'failed' },
        timeout: undefined,
      }),
      [],
    );
    expect(failed === false ? undefined : failed.stored).toStrictEqual(
      await store.load('tick', 'c-9'),
    );
  });
});
