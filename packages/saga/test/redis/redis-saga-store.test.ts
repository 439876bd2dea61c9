import {
  createBus,
  ErrorCodes,
  InMemoryTransport,
  InvalidOptionsError,
  InvalidStateError,
} from '@edakit/core';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { failFastRedisOptions } from '../../src/redis/redis-outbox-link';
import { hashTagOf } from '../../src/redis/redis-saga-keys';
import { DEFAULT_TOMBSTONE_TTL_MS, RedisSagaStore } from '../../src/redis/redis-saga-store';
import { durableStoreCases } from '../support/durable-store-cases';
import { keysUnder, REDIS_HOST, REDIS_PORT, useRedisSagaStores } from '../support/redis';
import { Ping, T0, tickInstance } from '../support/tick-saga';

const redis = useRedisSagaStores();

durableStoreCases(redis);

const producer = createBus({ transport: new InMemoryTransport(), source: '/redis-saga-test' });

const instance = tickInstance;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RedisSagaStore specifics', () => {
  it('saga-12: a finished instance is a tombstone that expires after tombstoneTtlMs; a running one never expires', async () => {
    const prefix = redis.prefix('tombstone');
    const admin = await redis.client();
    const store = await redis.openAt(prefix, { tombstoneTtlMs: 60_000 });
    const key = store.keys.instance('tick', 'o-1');
    await store.create(instance('o-1', { timeout: { token: 't', dueAt: T0, kind: 'reply' } }), []);
    expect(await admin.pttl(key)).toBe(-1);
    await store.update(instance('o-1', { version: 2, status: 'completed' }), []);
    const ttl = await admin.pttl(key);
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // While it lasts, the id is taken: a late start event finds the finished saga.
    expect(await store.create(instance('o-1'), [])).toBe(false);
    expect(await store.load('tick', 'o-1')).toMatchObject({ status: 'completed', version: 2 });
    expect((await store.find({ saga: 'tick', status: 'completed' })).map((s) => s.id)).toEqual([
      'o-1',
    ]);

    // The default keeps it 7 days.
    const byDefault = await redis.openAt(redis.prefix('tombstone-default'));
    await byDefault.create(instance('o-2'), []);
    await byDefault.update(instance('o-2', { version: 2, status: 'compensated' }), []);
    expect(DEFAULT_TOMBSTONE_TTL_MS).toBe(604_800_000);
    expect(await admin.pttl(byDefault.keys.instance('tick', 'o-2'))).toBeGreaterThan(
      DEFAULT_TOMBSTONE_TTL_MS - 60_000,
    );

    // Once expired, it is gone from loads and finds, and the id can start afresh.
    const brief = await redis.openAt(redis.prefix('tombstone-brief'), { tombstoneTtlMs: 100 });
    await brief.create(instance('o-3', { timeout: { token: 't', dueAt: T0, kind: 'reply' } }), []);
    await brief.update(instance('o-3', { version: 2, status: 'completed' }), []);
    await sleep(250);
    expect(await brief.load('tick', 'o-3')).toBeUndefined();
    expect(await brief.find({ saga: 'tick' })).toEqual([]);
    expect(await brief.create(instance('o-3', { data: { labels: ['again'] } }), [])).toBe(true);
    expect(await brief.load('tick', 'o-3')).toMatchObject({
      version: 1,
      data: { labels: ['again'] },
    });
    // The old instance's timer did not survive it.
    expect(await brief.claimDueTimeouts(T0 + 1e9, 10, 1000)).toEqual([]);
  });

  it('saga-17: refuses to start unless maxmemory-policy is noeviction (EDAKIT_INVALID_STATE)', async () => {
    const client = await redis.client();
    const attempt = RedisSagaStore.open({
      client,
      prefix: redis.prefix('eviction'),
      readEvictionPolicy: async () => 'allkeys-lru',
    });
    await expect(attempt).rejects.toBeInstanceOf(InvalidStateError);
    await expect(attempt).rejects.toMatchObject({
      code: ErrorCodes.INVALID_STATE,
      message: expect.stringContaining('"allkeys-lru"'),
    });
    // The real server is configured right: the default reader asks it.
    await expect(
      RedisSagaStore.open({ client, prefix: redis.prefix('eviction-ok') }),
    ).resolves.toBeInstanceOf(RedisSagaStore);
  });

  it('saga-17: refuses a client that queues commands while offline or retries them forever', async () => {
    const queued = new Redis({ host: REDIS_HOST, port: REDIS_PORT, lazyConnect: true });
    const forever = new Redis({
      host: REDIS_HOST,
      port: REDIS_PORT,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: null,
    });
    try {
      for (const client of [queued, forever]) {
        await expect(RedisSagaStore.open({ client })).rejects.toMatchObject({
          code: ErrorCodes.INVALID_OPTIONS,
        });
      }
      await expect(RedisSagaStore.open({ client: queued })).rejects.toBeInstanceOf(
        InvalidOptionsError,
      );
    } finally {
      queued.disconnect();
      forever.disconnect();
    }
  });

  it('refuses a prefix without a hash tag and a tombstone TTL that is not a positive integer', async () => {
    const client = await redis.client();
    await expect(RedisSagaStore.open({ client, prefix: 'edakit:saga:' })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_OPTIONS,
      message: expect.stringContaining('hash tag'),
    });
    await expect(RedisSagaStore.open({ client, prefix: 'edakit:{}:' })).rejects.toBeInstanceOf(
      InvalidOptionsError,
    );
    await expect(
      RedisSagaStore.open({ client, prefix: redis.prefix('ttl'), tombstoneTtlMs: 0 }),
    ).rejects.toBeInstanceOf(InvalidOptionsError);
  });

  it('saga-15: every key of the store (instances, timers, indexes, outbox) shares the prefix hash tag, so one Cluster slot', async () => {
    const prefix = redis.prefix('slot');
    const store = await redis.openAt(prefix);
    const admin = await redis.client();
    await store.create(instance('o-1', { timeout: { token: 't', dueAt: T0, kind: 'reply' } }), [
      producer.prepare(Ping, { counter: 'o-1', step: 1 }),
    ]);
    await store.update(instance('o-1', { version: 2, status: 'completed' }), [
      producer.prepare(Ping, { counter: 'o-1', step: 2 }),
    ]);
    await store.create(instance('o-2', { timeout: { token: 't', dueAt: T0, kind: 'reply' } }), [
      producer.prepare(Ping, { counter: 'o-2', step: 1 }),
    ]);
    // A claim (left unsettled) creates the outbox's queue, schedule and lease keys.
    expect(await store.outbox.claim({ limit: 10, leaseMs: 60_000 })).toBeDefined();
    const keys = await keysUnder(admin, prefix);
    const tag = hashTagOf(prefix);
    expect(tag).toMatch(/^slot-/);
    expect(keys.map(hashTagOf).every((t) => t === tag)).toBe(true);
    const names = keys.map((key) => key.slice(prefix.length)).sort();
    expect(names).toEqual(
      expect.arrayContaining([
        'i:tick:o-1',
        'i:tick:o-2',
        'timers',
        'timer-tokens',
        'status:tick:running',
        'status:tick:completed',
        'outbox:log',
        'outbox:seq',
        'outbox:q:o-1',
        'outbox:q:o-2',
        'outbox:ready',
        'outbox:leases',
      ]),
    );
  });

  it("writes the commands as the Redis outbox's own entries: relayed with their key, per-key sequence and bytes", async () => {
    const store = await redis.openAt(redis.prefix('entries'));
    const first = producer.prepare(Ping, { counter: 'o-9', step: 1 });
    const second = producer.prepare(Ping, { counter: 'o-9', step: 2 });
    await store.create(instance('o-9'), [first, second]);
    const claim = await store.outbox.claim({ limit: 10, leaseMs: 60_000 });
    expect(claim?.records.map((r) => [r.id, r.key, r.sequence])).toEqual([
      [first.envelope.id, 'o-9', 1],
      [second.envelope.id, 'o-9', 2],
    ]);
    expect(claim?.records[0]).toMatchObject({
      channel: first.outgoing.channel,
      type: 'tick.ping',
      headers: first.outgoing.message.headers,
      attempts: 0,
    });
    expect(
      Buffer.from(claim?.records[0]?.body ?? []).equals(Buffer.from(first.outgoing.message.body)),
    ).toBe(true);
  });

  it('a write whose checks fail writes nothing: no half-applied transition', async () => {
    const prefix = redis.prefix('checks');
    const store = await redis.openAt(prefix);
    const admin = await redis.client();
    await store.create(
      instance('o-1', { timeout: { token: 't-1', dueAt: T0, kind: 'reply' } }),
      [],
    );
    // Something else took the outbox's sequence key: the script refuses before writing.
    await admin.del(`${prefix}outbox:seq`);
    await admin.set(`${prefix}outbox:seq`, 'not a hash');
    const update = store.update(
      instance('o-1', {
        version: 2,
        step: 1,
        timeout: { token: 't-2', dueAt: T0 + 5, kind: 'reply' },
      }),
      [producer.prepare(Ping, { counter: 'o-1', step: 2 })],
    );
    await expect(update).rejects.toThrow(/WRONGTYPE/);
    expect(await store.load('tick', 'o-1')).toMatchObject({ version: 1, step: 0 });
    expect(await store.claimDueTimeouts(T0 + 10, 10, 1000)).toEqual([
      { saga: 'tick', id: 'o-1', token: 't-1' },
    ]);
    expect(await admin.xlen(`${prefix}outbox:log`)).toBe(0);
  });

  it('opens a client created with lazyConnect by connecting it', async () => {
    const client = new Redis({
      host: REDIS_HOST,
      port: REDIS_PORT,
      lazyConnect: true,
      ...failFastRedisOptions,
    });
    try {
      const store = await RedisSagaStore.open({ client, prefix: redis.prefix('lazy') });
      expect(await store.create(instance('o-1'), [])).toBe(true);
    } finally {
      await client.quit();
    }
  });
});
