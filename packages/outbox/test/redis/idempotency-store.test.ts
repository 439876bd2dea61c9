import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RedisIdempotencyStore } from '../../src/redis/redis-idempotency-store';
import { sleep, spawnFixture, useRedis } from '../support/redis';

const redis = useRedis();

async function newStore(keyPrefix: string): Promise<RedisIdempotencyStore> {
  const store = new RedisIdempotencyStore({ client: await redis.client(), keyPrefix });
  await store.verify();
  return store;
}

describe('RedisIdempotencyStore against Redis', () => {
  it('rdd-1: of two concurrent acquires on separate connections exactly one wins, 100 races in a row', async () => {
    const prefix = redis.prefix('idem-race');
    const a = await newStore(prefix);
    const b = await newStore(prefix);
    for (let race = 0; race < 100; race++) {
      const key = `event-${race}`;
      const results = await Promise.all([a.acquire(key, 10_000), b.acquire(key, 10_000)]);
      const statuses = results.map((result) => result.status).sort();
      expect(statuses, `race ${race}`).toEqual(['acquired', 'in-flight']);
    }
  });

  it('rdd-1: of 10 contenders per key over 50 keys, exactly one per key acquires', async () => {
    const prefix = redis.prefix('idem-contenders');
    const stores = await Promise.all(Array.from({ length: 10 }, () => newStore(prefix)));
    const keys = Array.from({ length: 50 }, (_, i) => `k-${i}`);
    const results = await Promise.all(
      keys.flatMap((key) =>
        stores.map(async (store) => ({ key, ...(await store.acquire(key, 10_000)) })),
      ),
    );
    for (const key of keys) {
      const winners = results.filter((r) => r.key === key && r.status === 'acquired');
      expect(winners, key).toHaveLength(1);
    }
  });

  it('rdd-2: a holder that failed releases the key and the next acquire gets it', async () => {
    const store = await newStore(redis.prefix('idem-release'));
    const first = await store.acquire('e', 10_000);
    if (first.status !== 'acquired') throw new Error('expected the first acquire to win');
    expect((await store.acquire('e', 10_000)).status).toBe('in-flight');
    expect(await store.release('e', first.token)).toBe(true);
    const second = await store.acquire('e', 10_000);
    expect(second.status).toBe('acquired');
  });

  it('rdd-3: a holder killed with SIGKILL blocks the key until its lease expires, then the key is acquired', async () => {
    const keyPrefix = redis.prefix('idem-crash');
    const store = await newStore(keyPrefix);
    const holder = spawnFixture('idempotency-holder.ts', [keyPrefix, 'e', '1500']);
    try {
      const line = await holder.line((l) => l.startsWith('{'));
      expect(JSON.parse(line)).toMatchObject({ status: 'acquired' });
      const heldFrom = Date.now();
      await holder.kill();
      const killedAt = Date.now();
      expect((await store.acquire('e', 10_000)).status).toBe('in-flight');
      let acquired = false;
      while (!acquired && Date.now() - killedAt < 5_000) {
        acquired = (await store.acquire('e', 10_000)).status === 'acquired';
        if (!acquired) await sleep(25);
      }
      expect(acquired).toBe(true);
      // Free once the child's 1.5 s lease ran out, not before, not much later.
      expect(Date.now() - heldFrom).toBeGreaterThanOrEqual(1_400);
      expect(Date.now() - killedAt).toBeLessThan(1_600);
    } finally {
      await holder.kill();
    }
  });

  it("rdd-4: renewing keeps a long holder's lease; another consumer sees in-flight throughout", async () => {
    const prefix = redis.prefix('idem-renew');
    const holder = await newStore(prefix);
    const other = await newStore(prefix);
    const leaseMs = 600;
    const first = await holder.acquire('e', leaseMs);
    if (first.status !== 'acquired') throw new Error('expected the holder to acquire');
    const started = Date.now();
    let renewals = 0;
    const seen = new Set<string>();
    // Three lease lengths, renewing every third of a lease like the middleware does.
    while (Date.now() - started < 3 * leaseMs) {
      if (Math.floor((Date.now() - started) / (leaseMs / 3)) > renewals) {
        expect(await holder.renew('e', first.token, leaseMs)).toBe(true);
        renewals += 1;
      }
      seen.add((await other.acquire('e', leaseMs)).status);
      await sleep(20);
    }
    expect([...seen]).toEqual(['in-flight']);
    expect(renewals).toBeGreaterThanOrEqual(8);
    expect(await holder.markDone('e', first.token, 60_000)).toBe(true);
    expect((await other.acquire('e', leaseMs)).status).toBe('done');
  });

  it("rdd-5: an owner whose lease expired and moved on can neither mark done nor release the new owner's key", async () => {
    const prefix = redis.prefix('idem-stale');
    const stale = await newStore(prefix);
    const fresh = await newStore(prefix);
    const old = await stale.acquire('e', 100);
    if (old.status !== 'acquired') throw new Error('expected the first owner to acquire');
    await sleep(150);
    const current = await fresh.acquire('e', 10_000);
    if (current.status !== 'acquired') throw new Error('expected the second owner to acquire');
    expect(await stale.markDone('e', old.token, 60_000)).toBe(false);
    expect(await stale.release('e', old.token)).toBe(false);
    expect(await stale.renew('e', old.token, 60_000)).toBe(false);
    expect((await stale.acquire('e', 10_000)).status).toBe('in-flight');
    expect(await fresh.markDone('e', current.token, 60_000)).toBe(true);
    // Not even after done: the stale token cannot erase the marker.
    expect(await stale.release('e', old.token)).toBe(false);
    expect((await stale.acquire('e', 10_000)).status).toBe('done');
  });

  it('rdd-6: done lasts the window, then the key can be acquired again', async () => {
    const keyPrefix = redis.prefix('idem-window');
    const client = await redis.client();
    const store = new RedisIdempotencyStore({ client, keyPrefix });
    const first = await store.acquire('e', 10_000);
    if (first.status !== 'acquired') throw new Error('expected to acquire');
    expect(await store.markDone('e', first.token, 400)).toBe(true);
    const ttl = await client.pttl(`${keyPrefix}e`);
    expect(ttl).toBeGreaterThan(300);
    expect(ttl).toBeLessThanOrEqual(400);
    expect((await store.acquire('e', 10_000)).status).toBe('done');
    await sleep(250);
    expect((await store.acquire('e', 10_000)).status).toBe('done');
    await sleep(250);
    expect((await store.acquire('e', 10_000)).status).toBe('acquired');
  });

  it('a 7-day window is stored as such (the middleware default)', async () => {
    const keyPrefix = redis.prefix('idem-week');
    const client = await redis.client();
    const store = new RedisIdempotencyStore({ client, keyPrefix });
    const week = 7 * 24 * 60 * 60 * 1000;
    const first = await store.acquire('e', 10_000);
    if (first.status !== 'acquired') throw new Error('expected to acquire');
    await store.markDone('e', first.token, week);
    expect(await client.pttl(`${keyPrefix}e`)).toBeGreaterThan(week - 5_000);
  });

  it('keeps keys under the prefix, edakit:idem: by default', async () => {
    const client = await redis.client();
    const store = new RedisIdempotencyStore({ client });
    const key = `test-${randomUUID()}`;
    const result = await store.acquire(key, 5_000);
    try {
      expect(result.status).toBe('acquired');
      expect(await client.get(`edakit:idem:${key}`)).toMatch(/^i:/);
    } finally {
      await client.del(`edakit:idem:${key}`);
    }
  });

  it('rejects a lease or window that is not a positive number, with EDAKIT_INVALID_OPTIONS', async () => {
    const store = await newStore(redis.prefix('idem-args'));
    await expect(store.acquire('e', 0)).rejects.toMatchObject({ code: 'EDAKIT_INVALID_OPTIONS' });
    await expect(store.acquire('e', Number.NaN)).rejects.toMatchObject({
      code: 'EDAKIT_INVALID_OPTIONS',
    });
    await expect(store.acquire('', 100)).rejects.toMatchObject({ code: 'EDAKIT_INVALID_OPTIONS' });
    await expect(store.markDone('e', 't', -1)).rejects.toMatchObject({
      code: 'EDAKIT_INVALID_OPTIONS',
    });
  });
});
