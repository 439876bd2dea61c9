import { createBus, defineEvent, InMemoryTransport } from '@edakit/core';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { failFastRedisOptions } from '../../src/redis/redis-client';
import { RedisOutbox } from '../../src/redis/redis-outbox';
import { RedisOutboxStore } from '../../src/redis/redis-outbox-store';
import { prepareEvent, REDIS_HOST, REDIS_PORT, TestEvent, useRedis } from '../support/redis';

const redis = useRedis();

async function setup(name: string) {
  const prefix = redis.prefix(name);
  const client = await redis.client();
  const store = await RedisOutboxStore.open({ client, prefix });
  return { prefix, client, store, outbox: new RedisOutbox({ prefix }) };
}

describe('RedisOutbox: the event is written with the state change, or not at all', () => {
  it('obx-1: EXEC writes the state and the entry; the claimed record is the prepared message', async () => {
    const { prefix, client, store, outbox } = await setup('write-commit');
    const prepared = prepareEvent('order-1', 1);
    const multi = client.multi();
    multi.hset(`${prefix}state:order-1`, 'status', 'placed');
    outbox.add(multi, prepared);
    const results = await multi.exec();
    expect(results?.map(([error]) => error)).toEqual([null, null]);
    expect(results?.[1]?.[1]).toBe(1); // the script's reply: the key's first sequence
    expect(await client.hget(`${prefix}state:order-1`, 'status')).toBe('placed');
    const claim = await store.claim({ limit: 10, leaseMs: 10_000 });
    const record = claim?.records[0];
    expect(claim?.records).toHaveLength(1);
    expect(record).toMatchObject({
      id: prepared.envelope.id,
      key: 'order-1',
      sequence: 1,
      channel: prepared.outgoing.channel,
      type: prepared.outgoing.type,
      headers: prepared.outgoing.message.headers,
      attempts: 0,
    });
    expect(
      Buffer.from(record?.body ?? []).equals(Buffer.from(prepared.outgoing.message.body)),
    ).toBe(true);
    expect(Math.abs((record?.createdAt.getTime() ?? 0) - Date.now())).toBeLessThan(5_000);
  });

  it('obx-1: a MULTI aborted because a WATCHed key changed (EXEC → null) leaves no entry and no sequence', async () => {
    const { prefix, client, store, outbox } = await setup('write-watch');
    const stateKey = `${prefix}state:order-1`;
    await client.hset(stateKey, 'version', '1');
    // WATCH is per connection: the service uses one of its own for the transaction.
    const tx = await redis.client();
    await tx.watch(stateKey);
    expect(await tx.hget(stateKey, 'version')).toBe('1');
    await client.hset(stateKey, 'version', '2'); // a concurrent writer wins
    const multi = tx.multi();
    multi.hset(stateKey, 'version', '2', 'status', 'placed');
    outbox.add(multi, prepareEvent('order-1', 1));
    expect(await multi.exec()).toBeNull();
    expect(await client.hget(stateKey, 'status')).toBeNull();
    expect(await client.xlen(`${prefix}log`)).toBe(0);
    expect(await client.hget(`${prefix}seq`, 'order-1')).toBeNull();
    expect(await store.claim({ limit: 10, leaseMs: 10_000 })).toBeUndefined();
  });

  it('obx-1: a MULTI refused at queue time (EXECABORT) leaves no entry', async () => {
    const { prefix, client, store, outbox } = await setup('write-execabort');
    const multi = client.multi();
    multi.hset(`${prefix}state:order-1`, 'status', 'placed');
    outbox.add(multi, prepareEvent('order-1', 1));
    multi.call('SET', `${prefix}only-a-key`); // wrong arity: refused while queuing
    await expect(multi.exec()).rejects.toThrow(/EXECABORT/);
    expect(await client.exists(`${prefix}state:order-1`)).toBe(0);
    expect(await client.xlen(`${prefix}log`)).toBe(0);
    expect(await store.stats()).toEqual({ pending: 0, oldestPendingAgeMs: 0, dead: 0 });
  });

  it('obx-1: a MULTI never executed (the service threw before EXEC) leaves no entry', async () => {
    const { prefix, client, store, outbox } = await setup('write-never');
    const multi = client.multi();
    multi.hset(`${prefix}state:order-1`, 'status', 'placed');
    outbox.add(multi, prepareEvent('order-1', 1));
    // Dropped without exec; the connection stays usable.
    expect(await client.ping()).toBe('PONG');
    expect(await client.xlen(`${prefix}log`)).toBe(0);
    expect(await store.claim({ limit: 10, leaseMs: 10_000 })).toBeUndefined();
  });

  it('documents the limit of MULTI: a command failing while executing (WRONGTYPE) does not undo the entry', async () => {
    const { prefix, client, outbox } = await setup('write-wrongtype');
    await client.set(`${prefix}state:order-1`, 'a string');
    const multi = client.multi();
    multi.hset(`${prefix}state:order-1`, 'status', 'placed'); // WRONGTYPE at EXEC
    outbox.add(multi, prepareEvent('order-1', 1));
    const results = await multi.exec();
    expect(String(results?.[0]?.[0])).toMatch(/WRONGTYPE/);
    expect(results?.[1]?.[0]).toBeNull();
    expect(await client.xlen(`${prefix}log`)).toBe(1);
  });

  it('refuses a plain pipeline (not atomic) with EDAKIT_INVALID_OPTIONS', async () => {
    const { client, outbox } = await setup('write-pipeline');
    expect(() => outbox.add(client.pipeline(), prepareEvent('order-1', 1))).toThrow(
      expect.objectContaining({ code: 'EDAKIT_INVALID_OPTIONS' }),
    );
  });

  it('refuses a client with an ioredis keyPrefix, on both sides (the outbox has its own prefix)', async () => {
    const { prefix, outbox } = await setup('write-keyprefix');
    const prefixed = new Redis({
      host: REDIS_HOST,
      port: REDIS_PORT,
      lazyConnect: true,
      keyPrefix: 'app:',
      ...failFastRedisOptions,
    });
    expect(() => outbox.add(prefixed.multi(), prepareEvent('order-1', 1))).toThrow(
      expect.objectContaining({ code: 'EDAKIT_INVALID_OPTIONS' }),
    );
    await expect(RedisOutboxStore.open({ client: prefixed, prefix })).rejects.toMatchObject({
      code: 'EDAKIT_INVALID_OPTIONS',
    });
    prefixed.disconnect();
  });

  it('assigns each key a gap-free sequence atomically: 4 connections × 250 concurrent transactions over 5 keys', async () => {
    const { prefix, client, store, outbox } = await setup('write-sequence');
    const writers = await Promise.all(Array.from({ length: 4 }, () => redis.client()));
    await Promise.all(
      writers.flatMap((writer, w) =>
        Array.from({ length: 250 }, async (_, i) => {
          const multi = writer.multi();
          outbox.add(multi, prepareEvent(`key-${(w + i) % 5}`, i));
          await multi.exec();
        }),
      ),
    );
    const entries = await client.xrange(`${prefix}log`, '-', '+');
    expect(entries).toHaveLength(1000);
    const byKey = new Map<string, number[]>();
    for (const [, fields] of entries) {
      const key = fields[fields.indexOf('k') + 1] as string;
      const sequence = Number(fields[fields.indexOf('s') + 1]);
      byKey.set(key, [...(byKey.get(key) ?? []), sequence]);
    }
    expect(byKey.size).toBe(5);
    for (const [key, sequences] of byKey) {
      // Stream order (commit order) is sequence order, with no gap and no repeat.
      expect(sequences, key).toEqual(sequences.map((_, i) => i + 1));
    }
    const claim = await store.claim({ limit: 1000, leaseMs: 10_000 });
    expect(claim?.records).toHaveLength(1000);
  });

  it('an event without a partition key is keyed by its id, sequence 1, with no counter kept', async () => {
    const { prefix, client, store, outbox } = await setup('write-keyless');
    const producer = createBus({ transport: new InMemoryTransport(), source: '/tests/outbox' });
    const keyless = defineEvent({
      type: 'outbox.keyless',
      schema: TestEvent.schema,
      description: 'no partition key',
    });
    const prepared = producer.prepare(keyless, { key: 'x', n: 1 });
    const multi = client.multi();
    outbox.add(multi, prepared);
    await multi.exec();
    expect(await client.hlen(`${prefix}seq`)).toBe(0);
    const claim = await store.claim({ limit: 10, leaseMs: 10_000 });
    expect(claim?.records[0]).toMatchObject({
      id: prepared.envelope.id,
      key: prepared.envelope.id,
      sequence: 1,
    });
  });

  it('a MULTI on a client with the offline queue off fails fast while Redis is unreachable, writing nothing', async () => {
    const { outbox } = await setup('write-offline');
    const down = new Redis({
      host: REDIS_HOST,
      port: REDIS_PORT,
      lazyConnect: true,
      ...failFastRedisOptions,
    });
    const multi = down.multi();
    outbox.add(multi, prepareEvent('order-1', 1));
    await expect(multi.exec()).rejects.toThrow(/enableOfflineQueue|writeable/);
    down.disconnect();
  });
  it('relays through a client with enableAutoPipelining (ioredis#1923 sent callBuffer without its command name)', async () => {
    const prefix = redis.prefix('auto-pipelining');
    const client = new Redis({
      host: REDIS_HOST,
      port: REDIS_PORT,
      enableAutoPipelining: true,
      ...failFastRedisOptions,
    });
    try {
      const store = await RedisOutboxStore.open({ client, prefix });
      const multi = client.multi();
      new RedisOutbox({ prefix }).add(
        multi,
        prepareEvent('order-1', 1),
        prepareEvent('order-1', 2),
      );
      await multi.exec();
      const claim = await store.claim({ limit: 10, leaseMs: 10_000 });
      expect(claim?.records.map((record) => [record.key, record.sequence])).toEqual([
        ['order-1', 1],
        ['order-1', 2],
      ]);
    } finally {
      client.disconnect();
    }
  });
});
