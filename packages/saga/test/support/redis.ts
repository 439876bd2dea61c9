import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll } from 'vitest';
// The same fail-fast client the outbox's Redis tests use.
import { connectRedis, REDIS_HOST, REDIS_PORT } from '../../../outbox/test/support/redis';
import { RedisSagaStore, type RedisSagaStoreOptions } from '../../src/redis/redis-saga-store';
import type { StoreBackend } from './durable-store-cases';

export { connectRedis, REDIS_HOST, REDIS_PORT };

/** A prefix no other test or run uses, with its own hash tag. */
export const uniquePrefix = (name: string): string =>
  `edakit-test:saga:{${name}-${randomUUID().slice(0, 8)}}:`;

export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(
      cursor,
      'MATCH',
      `${escapeGlob(prefix)}*`,
      'COUNT',
      1000,
    );
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Every key under a prefix. */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(
      cursor,
      'MATCH',
      `${escapeGlob(prefix)}*`,
      'COUNT',
      1000,
    );
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

/** SCAN MATCH is a glob: the hash tag's braces are literal there, but `[`, `*`, `?` would not be. */
const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');

/**
 * Redis stores of one test file: each `fresh()` is a new prefix; each `open()`
 * of it a new client and store over the same keys (a replica, or the process
 * after a restart). Clients are closed and keys deleted after the file.
 */
export function useRedisSagaStores(): StoreBackend<RedisSagaStore> & {
  client(): Promise<Redis>;
  prefix(name: string): string;
  openAt(
    prefix: string,
    options?: Omit<RedisSagaStoreOptions, 'client' | 'prefix'>,
  ): Promise<RedisSagaStore>;
} {
  const clients: Redis[] = [];
  const prefixes: string[] = [];
  const release = async () => {
    await Promise.all(clients.splice(0).map((client) => client.quit().catch(() => undefined)));
  };
  afterAll(async () => {
    await release();
    const admin = await connectRedis();
    for (const prefix of prefixes) await deleteKeys(admin, prefix);
    await admin.quit();
  });
  const client = async () => {
    const created = await connectRedis();
    clients.push(created);
    return created;
  };
  const prefix = (name: string) => {
    const made = uniquePrefix(name);
    prefixes.push(made);
    return made;
  };
  const openAt = async (
    at: string,
    options: Omit<RedisSagaStoreOptions, 'client' | 'prefix'> = {},
  ) => RedisSagaStore.open({ client: await client(), prefix: at, ...options });
  return {
    name: 'Redis',
    release,
    client,
    prefix,
    openAt,
    async fresh(name) {
      const at = prefix(name);
      return { open: () => openAt(at) };
    },
  };
}
