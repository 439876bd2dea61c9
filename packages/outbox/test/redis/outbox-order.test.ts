import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { OutboxRecord } from '../../src/outbox-record';
import type { FailedPublish, OutboxStore } from '../../src/outbox-store';
import { RedisOutbox } from '../../src/redis/redis-outbox';
import { RedisOutboxStore } from '../../src/redis/redis-outbox-store';
import { checkOrder, prepareEvent, sleep, useRedis } from '../support/redis';

const redis = useRedis();

interface RelayOptions {
  readonly limit: number;
  readonly leaseMs: number;
  /** Chance that publishing a row fails (then its key stops for this claim). */
  readonly failRate?: number;
  readonly done: () => boolean;
}

/**
 * What a relay does, with an in-memory "broker": claim, publish each key's run
 * in order (stopping a key at its first failure), settle.
 */
async function relay(store: OutboxStore, broker: string[], options: RelayOptions): Promise<number> {
  let claims = 0;
  while (!options.done()) {
    const claim = await store.claim({ limit: options.limit, leaseMs: options.leaseMs });
    if (!claim) {
      await sleep(2);
      continue;
    }
    claims += 1;
    const published: OutboxRecord[] = [];
    const failed: FailedPublish[] = [];
    let stopped: string | undefined;
    for (const record of claim.records) {
      if (record.key === stopped) continue;
      if (Math.random() < (options.failRate ?? 0)) {
        failed.push({ record, error: 'nack', retryAt: new Date(Date.now() + 20) });
        stopped = record.key;
        continue;
      }
      broker.push(`${record.key}:${record.sequence}`);
      published.push(record);
      // Let other relays run between publishes.
      if (published.length % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await store.settle(claim, { published, failed });
  }
  return claims;
}

async function writeRows(client: Redis, prefix: string, keys: number, perKey: number, batch = 500) {
  const outbox = new RedisOutbox({ prefix });
  const rows: Array<[string, number]> = [];
  for (let n = 1; n <= perKey; n++) for (let k = 0; k < keys; k++) rows.push([`key-${k}`, n]);
  for (let i = 0; i < rows.length; i += batch) {
    const multi = client.multi();
    for (const [key, n] of rows.slice(i, i + batch)) outbox.add(multi, prepareEvent(key, n));
    await multi.exec();
  }
}

describe('RedisOutboxStore: per-key order across relays', () => {
  it('obx-5: 4 relays on their own connections, a concurrent writer, 5% failed publishes: every key in order, every row exactly once', async () => {
    const prefix = redis.prefix('order');
    const writer = await redis.client();
    const stores = await Promise.all(
      Array.from({ length: 4 }, async (_, i) =>
        RedisOutboxStore.open({ client: await redis.client(), prefix, consumer: `relay-${i}` }),
      ),
    );
    const keys = 200;
    const perKey = 25;
    const broker: string[] = [];
    let written = false;
    const writing = (async () => {
      const outbox = new RedisOutbox({ prefix });
      for (let n = 1; n <= perKey; n++) {
        // Small transactions over random keys, interleaved with the relays.
        for (let k = 0; k < keys; k += 10) {
          const multi = writer.multi();
          for (let j = k; j < k + 10; j++) outbox.add(multi, prepareEvent(`key-${j}`, n));
          await multi.exec();
        }
        await sleep(1);
      }
      written = true;
    })();
    const monitor = stores[0] as RedisOutboxStore;
    let drained = false;
    const watching = (async () => {
      while (!written || (await monitor.stats()).pending > 0) await sleep(20);
      drained = true;
    })();
    const claims = await Promise.all(
      stores.map((store) =>
        relay(store, broker, { limit: 50, leaseMs: 10_000, failRate: 0.05, done: () => drained }),
      ),
    );
    await Promise.all([writing, watching]);
    const report = checkOrder(broker);
    expect(report.violations).toEqual([]);
    expect(report.duplicates).toBe(0);
    expect(broker).toHaveLength(keys * perKey);
    for (let k = 0; k < keys; k++) expect(report.prefix.get(`key-${k}`)).toBe(perKey);
    // Every relay took part.
    expect(claims.every((count) => count > 0)).toBe(true);
    expect(await monitor.stats()).toEqual({ pending: 0, oldestPendingAgeMs: 0, dead: 0 });
  });

  it('figures: claim + settle throughput over 10k rows, 1 relay then 4 relays (batch 200)', async () => {
    const figures: string[] = [];
    for (const relays of [1, 4]) {
      const prefix = redis.prefix(`throughput-${relays}`);
      await writeRows(await redis.client(), prefix, 500, 20);
      const stores = await Promise.all(
        Array.from({ length: relays }, async () =>
          RedisOutboxStore.open({ client: await redis.client(), prefix }),
        ),
      );
      const broker: string[] = [];
      const started = performance.now();
      let empty = false;
      await Promise.all(
        stores.map(async (store) => {
          while (!empty) {
            const claim = await store.claim({ limit: 200, leaseMs: 30_000 });
            if (!claim) {
              empty = (await store.stats()).pending === 0;
              continue;
            }
            for (const record of claim.records) broker.push(`${record.key}:${record.sequence}`);
            await store.settle(claim, { published: claim.records, failed: [] });
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const report = checkOrder(broker);
      expect(report.violations).toEqual([]);
      expect(broker).toHaveLength(10_000);
      figures.push(`${relays} relay(s): ${Math.round(10_000 / seconds)} rows/s`);
    }
    console.log(`claim+settle throughput (10k rows, 500 keys, batch 200): ${figures.join(', ')}`);
  });
});
