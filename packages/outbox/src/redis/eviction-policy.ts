import { InvalidStateError } from '@edakit/core';
import type { Redis } from 'ioredis';

/** Reads the server's `maxmemory-policy`. Injectable so tests can refuse without reconfiguring Redis. */
export type EvictionPolicyReader = (client: Redis) => Promise<string>;

/**
 * Asks the server with CONFIG GET, then with INFO memory: managed services
 * (ElastiCache, Memorystore) often rename or block CONFIG but always answer INFO.
 */
export async function readMaxmemoryPolicy(client: Redis): Promise<string> {
  try {
    const reply: unknown = await client.config('GET', 'maxmemory-policy');
    if (Array.isArray(reply) && typeof reply[1] === 'string') return reply[1];
  } catch {
    // Fall through to INFO.
  }
  const info = await client.info('memory');
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (policy === undefined) {
    throw new InvalidStateError('Could not read maxmemory-policy from the Redis server', {
      path: 'INFO memory',
    });
  }
  return policy;
}

/**
 * Throws InvalidStateError unless the server never evicts keys. Any other
 * policy may silently drop a lease, a done marker or an outbox entry under
 * memory pressure: duplicates or lost events with nothing in the logs.
 */
export async function assertNoEviction(
  client: Redis,
  owner: string,
  read: EvictionPolicyReader = readMaxmemoryPolicy,
): Promise<void> {
  const policy = await read(client);
  if (policy !== 'noeviction') {
    throw new InvalidStateError(
      `${owner} needs Redis maxmemory-policy "noeviction", the server has "${policy}": it could evict the store's keys under memory pressure (CONFIG SET maxmemory-policy noeviction)`,
      { maxmemoryPolicy: policy },
    );
  }
}
