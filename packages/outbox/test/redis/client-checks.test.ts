import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { readMaxmemoryPolicy } from '../../src/redis/eviction-policy';
import { failFastRedisOptions } from '../../src/redis/redis-client';
import { RedisIdempotencyStore } from '../../src/redis/redis-idempotency-store';
import { RedisOutboxStore } from '../../src/redis/redis-outbox-store';
import { RedisScript } from '../../src/redis/redis-script';
import { REDIS_HOST, REDIS_PORT, useRedis } from '../support/redis';

const redis = useRedis();
const lazy = (options: RedisOptions): Redis =>
  new Redis({ host: REDIS_HOST, port: REDIS_PORT, lazyConnect: true, ...options });

describe('what the Redis stores refuse', () => {
  it('rdd-8: refuses a client with the offline queue on (the ioredis default), with EDAKIT_INVALID_OPTIONS', async () => {
    const client = lazy({});
    expect(() => new RedisIdempotencyStore({ client })).toThrow(
      expect.objectContaining({ code: 'EDAKIT_INVALID_OPTIONS' }),
    );
    await expect(RedisOutboxStore.open({ client })).rejects.toMatchObject({
      code: 'EDAKIT_INVALID_OPTIONS',
    });
    client.disconnect();
  });

  it('rdd-8: refuses a client that retries a command forever (maxRetriesPerRequest: null)', () => {
    const client = lazy({ enableOfflineQueue: false, maxRetriesPerRequest: null });
    expect(() => new RedisIdempotencyStore({ client })).toThrow(
      expect.objectContaining({ code: 'EDAKIT_INVALID_OPTIONS' }),
    );
    client.disconnect();
  });

  it('reads the real server policy (CONFIG GET): this server runs noeviction', async () => {
    expect(await readMaxmemoryPolicy(await redis.client())).toBe('noeviction');
  });

  it('reads the policy from INFO when CONFIG is refused (managed Redis)', async () => {
    const client = await redis.client();
    const refusing = new Proxy(client, {
      get(target, property, receiver) {
        if (property === 'config')
          return () => Promise.reject(new Error("ERR unknown command 'CONFIG'"));
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    expect(await readMaxmemoryPolicy(refusing)).toBe('noeviction');
  });

  it('obx-22: the outbox store refuses to open unless maxmemory-policy is noeviction (EDAKIT_INVALID_STATE)', async () => {
    const client = await redis.client();
    const prefix = redis.prefix('refuse');
    const error = await RedisOutboxStore.open({
      client,
      prefix,
      readEvictionPolicy: async () => 'allkeys-lru',
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'EDAKIT_INVALID_STATE',
      context: { maxmemoryPolicy: 'allkeys-lru' },
    });
    expect(String((error as Error).message)).toContain('noeviction');
    // Refused before touching anything: no stream, no group.
    expect(await client.exists(`${prefix}log`)).toBe(0);
  });

  it('the idempotency store refuses every acquire while the policy is not noeviction, and accepts once it is', async () => {
    const client = await redis.client();
    let policy = 'volatile-lru';
    const store = new RedisIdempotencyStore({
      client,
      keyPrefix: redis.prefix('idem-policy'),
      readEvictionPolicy: async () => policy,
    });
    await expect(store.verify()).rejects.toMatchObject({ code: 'EDAKIT_INVALID_STATE' });
    await expect(store.acquire('e', 1_000)).rejects.toMatchObject({
      code: 'EDAKIT_INVALID_STATE',
    });
    policy = 'noeviction';
    expect((await store.acquire('e', 1_000)).status).toBe('acquired');
  });

  it('runs a script the server has never seen (NOSCRIPT, then EVAL), and by sha afterwards', async () => {
    const client = await redis.client();
    // A fresh text is a fresh sha: no SCRIPT FLUSH on the shared server.
    const script = new RedisScript(`-- ${randomUUID()}\nreturn ARGV[1]`);
    expect(await client.script('EXISTS', script.sha)).toEqual([0]);
    expect(await script.run(client, [], ['first'])).toBe('first');
    expect(await client.script('EXISTS', script.sha)).toEqual([1]);
    expect(await script.run(client, [], ['again'])).toBe('again');
    expect(String(await script.runBuffer(client, [], ['bytes']))).toBe('bytes');
  });
  it('open() waits for a client still connecting, and refuses a closed one with EDAKIT_INVALID_STATE', async () => {
    const connecting = new Redis({ host: REDIS_HOST, port: REDIS_PORT, ...failFastRedisOptions });
    expect(connecting.status).toBe('connecting');
    const prefix = redis.prefix('until-ready');
    await RedisOutboxStore.open({ client: connecting, prefix });
    expect(connecting.status).toBe('ready');
    await connecting.quit();
    if (connecting.status !== 'end') await new Promise((end) => connecting.once('end', end));
    await expect(RedisOutboxStore.open({ client: connecting, prefix })).rejects.toMatchObject({
      code: 'EDAKIT_INVALID_STATE',
      message: 'The Redis client is closed',
    });
  });
});
