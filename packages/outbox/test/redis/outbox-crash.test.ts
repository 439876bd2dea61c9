import { describe, expect, it } from 'vitest';
import { RELAY_GROUP } from '../../src/redis/outbox-keys';
import { RedisOutbox } from '../../src/redis/redis-outbox';
import { RedisOutboxStore } from '../../src/redis/redis-outbox-store';
import { checkOrder, prepareEvent, sleep, spawnFixture, useRedis } from '../support/redis';

const redis = useRedis();

interface Held {
  /** The child's clock just before the claim that took these rows. */
  readonly at: number;
  readonly records: ReadonlyArray<{ id: string; key: string; sequence: number }>;
}

describe('RedisOutboxStore: relays killed with SIGKILL', () => {
  it('obx-2: 10k rows, one relay killed while holding a published but unsettled claim, one killed at a random moment: every row published at least once, in per-key order, held rows only after leaseMs', async () => {
    const prefix = redis.prefix('crash');
    const brokerKey = `${prefix}broker`;
    const client = await redis.client();
    const keys = 100;
    const perKey = 100;
    const leaseMs = 1_500;
    const outbox = new RedisOutbox({ prefix });
    for (let n = 1; n <= perKey; n += 5) {
      const multi = client.multi();
      for (let m = n; m < n + 5; m++)
        for (let k = 0; k < keys; k++) outbox.add(multi, prepareEvent(`key-${k}`, m));
      await multi.exec();
    }
    expect(await client.xlen(`${prefix}log`)).toBe(keys * perKey);

    const args = (consumer: string, limit: number, hold: number, confirmMs: number) =>
      [prefix, consumer, brokerKey, limit, leaseMs, hold, confirmMs].map(String);
    const holder = spawnFixture('relay-worker.ts', args('child-holder', 50, 3, 0));
    // Waits 20 ms for "confirms" per claim: the random kill mostly lands between publish and settle.
    const victim = spawnFixture('relay-worker.ts', args('child-victim', 20, 0, 20));
    try {
      await Promise.all([holder.line((l) => l === 'ready'), victim.line((l) => l === 'ready')]);
      // Two survivors in this process run the same loop alongside the children.
      const stores = await Promise.all(
        [0, 1].map(async (i) =>
          RedisOutboxStore.open({
            client: await redis.client(),
            prefix,
            consumer: `survivor-${i}`,
          }),
        ),
      );
      const monitor = stores[0] as RedisOutboxStore;
      const firstPublish = new Map<string, number>();
      let drained = false;
      const started = Date.now();
      const survivors = stores.map(async (store) => {
        const broker = await redis.client();
        while (!drained) {
          const claim = await store.claim({ limit: 100, leaseMs });
          if (!claim) {
            await sleep(5);
            continue;
          }
          await broker.rpush(brokerKey, ...claim.records.map((r) => `${r.key}:${r.sequence}`));
          const now = Date.now();
          for (const r of claim.records) if (!firstPublish.has(r.id)) firstPublish.set(r.id, now);
          await store.settle(claim, { published: claim.records, failed: [] });
        }
      });
      const held = JSON.parse(
        (await holder.line((l) => l.startsWith('holding '))).slice('holding '.length),
      ) as Held;
      await holder.kill();
      await sleep(50 + Math.floor(Math.random() * 250));
      await victim.kill();
      const victimSettled = victim.lines.filter((l) => l.startsWith('settled')).length;
      expect(victimSettled).toBeGreaterThan(0); // it did work before it died
      await Promise.all([
        ...survivors,
        (async () => {
          while ((await monitor.stats()).pending > 0) {
            if (Date.now() - started > 60_000)
              throw new Error('the survivors did not drain the outbox');
            await sleep(20);
          }
          drained = true;
        })(),
      ]);
      const republishedAt = held.records.map((r) => firstPublish.get(r.id));

      const published = await client.lrange(brokerKey, 0, -1);
      const report = checkOrder(published);
      expect(report.violations).toEqual([]);
      for (let k = 0; k < keys; k++) expect(report.prefix.get(`key-${k}`)).toBe(perKey);
      // The held claim was published by the killed relay and again by a survivor,
      // but not before its lease ran out.
      expect(held.records.length).toBeGreaterThan(0);
      // (firstPublish only sees survivors' publishes: the children's are in the broker list.)
      for (const at of republishedAt) {
        expect(at).toBeDefined();
        // The lease began after held.at; 2 ms for the server's clock truncated to milliseconds.
        expect((at ?? 0) - held.at).toBeGreaterThanOrEqual(leaseMs - 2);
      }
      expect(report.duplicates).toBeGreaterThanOrEqual(held.records.length);
      // Nothing is left pending in the group, nor in Redis.
      const summary = (await client.xpending(`${prefix}log`, RELAY_GROUP)) as [
        number,
        ...unknown[],
      ];
      expect(summary[0]).toBe(0);
      expect(await monitor.stats()).toEqual({ pending: 0, oldestPendingAgeMs: 0, dead: 0 });
      console.log(
        `crash test: ${published.length} publishes for ${keys * perKey} rows, ${report.duplicates} duplicates ` +
          `(${held.records.length} from the held claim); the randomly killed relay had settled ${victimSettled} claims; ` +
          `held rows republished ${Math.min(...republishedAt.map((at) => at ?? 0)) - held.at} ms after their claim (lease ${leaseMs} ms)`,
      );
    } finally {
      await holder.kill();
      await victim.kill();
    }
  });

  it('obx-7: a relay paused with SIGSTOP past its lease settles late and changes nothing; the rows stay with the relay that reclaimed them', async () => {
    const prefix = redis.prefix('sigstop');
    const client = await redis.client();
    const outbox = new RedisOutbox({ prefix });
    const write = async (n: number) => {
      const multi = client.multi();
      outbox.add(multi, prepareEvent('k', n));
      await multi.exec();
    };
    for (const n of [1, 2, 3]) await write(n);
    const leaseMs = 500;
    const stale = spawnFixture('stale-relay.ts', [prefix, String(leaseMs), '1000']);
    try {
      const claimed = JSON.parse(
        (await stale.line((l) => l.startsWith('claimed '))).slice('claimed '.length),
      ) as string[];
      stale.child.kill('SIGSTOP');
      expect(claimed).toHaveLength(3);
      const survivor = await RedisOutboxStore.open({ client: await redis.client(), prefix });
      expect(await survivor.claim({ limit: 10, leaseMs: 10_000 })).toBeUndefined(); // still leased
      await sleep(leaseMs + 50);
      const claim = await survivor.claim({ limit: 10, leaseMs: 10_000 });
      expect(claim?.records.map((r) => r.id)).toEqual(claimed);
      if (!claim) throw new Error('expected the survivor to reclaim');
      await write(4); // arrives while both think they own k
      stale.child.kill('SIGCONT');
      const settled = JSON.parse(
        (await stale.line((l) => l.startsWith('settled '))).slice('settled '.length),
      ) as unknown;
      expect(settled).toEqual({ published: 0, fenced: 3 });
      expect((await survivor.stats()).pending).toBe(4);
      expect(await survivor.settle(claim, { published: claim.records, failed: [] })).toEqual({
        published: 3,
        fenced: 0,
      });
      const next = await survivor.claim({ limit: 10, leaseMs: 10_000 });
      expect(next?.records.map((r) => `${r.key}:${r.sequence}`)).toEqual(['k:4']);
    } finally {
      stale.child.kill('SIGCONT');
      await stale.kill();
    }
  });
});
