import { describe, expect, it } from 'vitest';
import type { OutboxRecord } from '../../src/outbox-record';
import { RedisOutbox } from '../../src/redis/redis-outbox';
import { RedisOutboxStore } from '../../src/redis/redis-outbox-store';
import { prepareEvent, sleep, useRedis } from '../support/redis';

const redis = useRedis();

async function setup(name: string, events: ReadonlyArray<[key: string, count: number]>) {
  const prefix = redis.prefix(name);
  const client = await redis.client();
  const outbox = new RedisOutbox({ prefix });
  const multi = client.multi();
  for (const [key, count] of events) {
    for (let n = 1; n <= count; n++) outbox.add(multi, prepareEvent(key, n));
  }
  await multi.exec();
  const open = async (consumer?: string) =>
    RedisOutboxStore.open({ client: await redis.client(), prefix, consumer });
  return { prefix, client, open };
}

const label = (records: readonly OutboxRecord[] | undefined) =>
  (records ?? []).map((r) => `${r.key}:${r.sequence}`);

describe('RedisOutboxStore: leases, failures, dead rows', () => {
  it('returns each key as a gap-free run from its oldest row, sorted by key then sequence, within the limit', async () => {
    const { open } = await setup('claim-shape', [
      ['b', 3],
      ['a', 2],
    ]);
    const store = await open();
    const claim = await store.claim({ limit: 4, leaseMs: 10_000 });
    expect(label(claim?.records)).toEqual(['a:1', 'a:2', 'b:1', 'b:2']);
    // b:3 waits: b is leased by the first claim, whose lease has not ended.
    expect(await store.claim({ limit: 10, leaseMs: 10_000 })).toBeUndefined();
  });

  it('obx-7: a relay whose lease expired and whose keys were claimed again cannot settle them (fencing)', async () => {
    const { open } = await setup('fencing', [['k', 3]]);
    const stale = await open('stale');
    const fresh = await open('fresh');
    const first = await stale.claim({ limit: 10, leaseMs: 200 });
    expect(label(first?.records)).toEqual(['k:1', 'k:2', 'k:3']);
    expect(await fresh.claim({ limit: 10, leaseMs: 10_000 })).toBeUndefined(); // still leased
    await sleep(250);
    const second = await fresh.claim({ limit: 10, leaseMs: 10_000 });
    expect(label(second?.records)).toEqual(['k:1', 'k:2', 'k:3']);
    if (!first || !second) throw new Error('expected both claims');
    // The stale relay reports success, then a failure: neither counts.
    expect(await stale.settle(first, { published: first.records, failed: [] })).toEqual({
      published: 0,
      fenced: 3,
    });
    const [row] = first.records;
    if (!row) throw new Error('expected a row');
    expect(
      await stale.settle(first, {
        published: [],
        failed: [{ record: row, error: 'late', retryAt: undefined }],
      }),
    ).toEqual({ published: 0, fenced: 1 });
    expect((await fresh.stats()).dead).toBe(0);
    expect(await fresh.settle(second, { published: second.records, failed: [] })).toEqual({
      published: 3,
      fenced: 0,
    });
    expect((await fresh.stats()).pending).toBe(0);
    // And after the new owner settled, the stale token still changes nothing.
    expect(await stale.settle(first, { published: first.records, failed: [] })).toEqual({
      published: 0,
      fenced: 3,
    });
  });

  it('a relay whose lease expired but whose keys nobody claimed may still settle them', async () => {
    const { open } = await setup('late-settle', [['k', 2]]);
    const store = await open();
    const claim = await store.claim({ limit: 10, leaseMs: 100 });
    if (!claim) throw new Error('expected a claim');
    await sleep(150);
    expect(await store.settle(claim, { published: claim.records, failed: [] })).toEqual({
      published: 2,
      fenced: 0,
    });
    expect(await store.claim({ limit: 10, leaseMs: 100 })).toBeUndefined();
  });

  it('obx-8: a poison row backs off until retryAt, blocking only its key, then dies and is replayed', async () => {
    const { client, prefix, open } = await setup('poison', [
      ['poison', 3],
      ['healthy', 2],
    ]);
    const store = await open();
    let claim = await store.claim({ limit: 10, leaseMs: 10_000 });
    if (!claim) throw new Error('expected a claim');
    expect(label(claim.records)).toEqual([
      'healthy:1',
      'healthy:2',
      'poison:1',
      'poison:2',
      'poison:3',
    ]);
    const [h1, h2, p1] = claim.records;
    if (!h1 || !h2 || !p1) throw new Error('expected rows');
    const retryAt = new Date(Date.now() + 400);
    expect(
      await store.settle(claim, {
        published: [h1],
        failed: [{ record: p1, error: 'unroutable', retryAt }],
      }),
    ).toEqual({ published: 1, fenced: 0 });

    // healthy:2 was claimed but not reported (the relay stopped before it): its key is free again.
    claim = await store.claim({ limit: 10, leaseMs: 10_000 });
    expect(label(claim?.records)).toEqual(['healthy:2']);
    if (!claim) throw new Error('expected a claim');
    await store.settle(claim, { published: claim.records, failed: [] });
    // New rows of a healthy key flow while the poison key backs off.
    const multi = client.multi();
    new RedisOutbox({ prefix }).add(multi, prepareEvent('healthy', 3));
    await multi.exec();
    claim = await store.claim({ limit: 10, leaseMs: 10_000 });
    expect(label(claim?.records)).toEqual(['healthy:3']);
    if (!claim) throw new Error('expected a claim');
    await store.settle(claim, { published: claim.records, failed: [] });

    const [stuck] = await store.listStuck(10);
    expect(stuck).toMatchObject({ record: { id: p1.id, attempts: 1 }, lastError: 'unroutable' });
    expect(Math.abs((stuck?.retryAt?.getTime() ?? 0) - retryAt.getTime())).toBeLessThan(100);
    expect(await store.claim({ limit: 10, leaseMs: 10_000 })).toBeUndefined();

    await sleep(450);
    claim = await store.claim({ limit: 10, leaseMs: 10_000 });
    expect(label(claim?.records)).toEqual(['poison:1', 'poison:2', 'poison:3']);
    expect(claim?.records[0]?.attempts).toBe(1);
    expect(claim?.records[1]?.attempts).toBe(0);
    if (!claim?.records[0]) throw new Error('expected a claim');
    // Attempts exhausted: the relay marks it dead (no retryAt).
    await store.settle(claim, {
      published: [],
      failed: [{ record: claim.records[0], error: 'still unroutable', retryAt: undefined }],
    });
    expect(await store.stats()).toMatchObject({ pending: 3, dead: 1 });
    const dead = await store.listStuck(10);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      record: { id: p1.id, key: 'poison', sequence: 1, attempts: 2 },
      lastError: 'still unroutable',
      retryAt: undefined,
    });
    await sleep(50);
    expect(await store.claim({ limit: 10, leaseMs: 10_000 })).toBeUndefined();
    // New rows of the dead key queue up behind it.
    const more = client.multi();
    new RedisOutbox({ prefix }).add(more, prepareEvent('poison', 4));
    await more.exec();
    expect(await store.claim({ limit: 10, leaseMs: 10_000 })).toBeUndefined();

    expect(await store.replay(['no-such-id', p1.id])).toBe(1);
    expect(await store.replay([p1.id])).toBe(0); // already revived
    expect(await store.listStuck(10)).toEqual([]);
    claim = await store.claim({ limit: 10, leaseMs: 10_000 });
    expect(label(claim?.records)).toEqual(['poison:1', 'poison:2', 'poison:3', 'poison:4']);
    expect(claim?.records[0]?.attempts).toBe(0); // attempts reset by the replay
    if (!claim) throw new Error('expected a claim');
    expect(await store.settle(claim, { published: claim.records, failed: [] })).toEqual({
      published: 4,
      fenced: 0,
    });
    expect(await store.stats()).toEqual({ pending: 0, oldestPendingAgeMs: 0, dead: 0 });
  });

  it('a failure in the middle of a run keeps the published rows before it and blocks the rest', async () => {
    const { open } = await setup('mid-run', [['k', 4]]);
    const store = await open();
    const claim = await store.claim({ limit: 10, leaseMs: 10_000 });
    const [k1, k2, k3] = claim?.records ?? [];
    if (!claim || !k1 || !k2 || !k3) throw new Error('expected rows');
    await store.settle(claim, {
      published: [k1, k2],
      failed: [{ record: k3, error: 'nack', retryAt: new Date(Date.now() + 100) }],
    });
    expect((await store.stats()).pending).toBe(2);
    expect(await store.claim({ limit: 10, leaseMs: 10_000 })).toBeUndefined();
    await sleep(150);
    const again = await store.claim({ limit: 10, leaseMs: 10_000 });
    expect(label(again?.records)).toEqual(['k:3', 'k:4']);
    expect(again?.records.map((r) => r.attempts)).toEqual([1, 0]);
  });

  it("obx-23: stats count pending rows (dead included), the oldest one's age, and dead rows", async () => {
    const { open } = await setup('stats', [
      ['a', 2],
      ['b', 1],
    ]);
    const store = await open();
    await sleep(120);
    const stats = await store.stats();
    expect(stats.pending).toBe(3);
    expect(stats.oldestPendingAgeMs).toBeGreaterThanOrEqual(100);
    expect(stats.oldestPendingAgeMs).toBeLessThan(5_000);
    expect(stats.dead).toBe(0);
  });

  it('prune deletes nothing (published rows are deleted at settle) and drops idle consumers that hold nothing', async () => {
    const { client, prefix, open } = await setup('prune', [['k', 2]]);
    const gone = await open('gone');
    const claim = await gone.claim({ limit: 10, leaseMs: 10_000 });
    if (!claim) throw new Error('expected a claim');
    await gone.settle(claim, { published: claim.records, failed: [] });
    const holder = await open('holder');
    const multi = client.multi();
    new RedisOutbox({ prefix }).add(multi, prepareEvent('k', 3));
    await multi.exec();
    expect(await holder.claim({ limit: 10, leaseMs: 10_000 })).toBeDefined();
    await sleep(60);
    const current = await open('current');
    expect(await current.prune(50, 1000)).toBe(0);
    const consumers = (await client.xinfo('CONSUMERS', `${prefix}log`, 'relay')) as unknown[][];
    const names = consumers.map((c) => c[1]);
    // "gone" held nothing and idled: deleted. "holder" still holds a row: kept.
    expect(names).toEqual(['holder']);
    expect(await client.xlen(`${prefix}log`)).toBe(1);
  });

  it('rejects a claim limit or lease that is not a positive integer, with EDAKIT_INVALID_OPTIONS', async () => {
    const { open } = await setup('claim-args', []);
    const store = await open();
    await expect(store.claim({ limit: 0, leaseMs: 1000 })).rejects.toMatchObject({
      code: 'EDAKIT_INVALID_OPTIONS',
    });
    await expect(store.claim({ limit: 10, leaseMs: -1 })).rejects.toMatchObject({
      code: 'EDAKIT_INVALID_OPTIONS',
    });
  });
});
