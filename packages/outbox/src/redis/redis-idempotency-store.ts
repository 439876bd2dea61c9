import { randomUUID } from 'node:crypto';
import {
  type AcquireResult,
  type IdempotencyStore,
  InvalidOptionsError,
  InvalidStateError,
} from '@edakit/core';
import type { Redis } from 'ioredis';
import { assertNoEviction, type EvictionPolicyReader } from './eviction-policy';
import { acquireScript, markDoneScript, releaseScript, renewScript } from './idempotency-scripts';
import { assertFailFastClient } from './redis-client';

export const DEFAULT_IDEMPOTENCY_PREFIX = 'edakit:idem:';

export interface RedisIdempotencyStoreOptions {
  /**
   * Created with `enableOfflineQueue: false` and a bounded
   * `maxRetriesPerRequest` (see failFastRedisOptions); refused otherwise.
   * The store never closes it.
   */
  readonly client: Redis;
  /** Prepended to every key. Default `edakit:idem:`. */
  readonly keyPrefix?: string;
  /** How the eviction policy is read; the default asks the server. */
  readonly readEvictionPolicy?: EvictionPolicyReader;
}

/**
 * Idempotency leases in Redis: one atomic script per operation, token-fenced.
 * Best effort: an asynchronous replica promoted after a failover, or an AOF
 * fsync'd every second, can forget a "done" marker and let a duplicate run.
 * Handlers with database side effects need a transactional inbox instead.
 *
 * The first acquire checks that the server's maxmemory-policy is noeviction
 * (call `verify()` at startup to fail earlier) and every acquire rejects with
 * EDAKIT_INVALID_STATE while it is not.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly client: Redis;
  private readonly prefix: string;
  private readonly readPolicy: EvictionPolicyReader | undefined;
  private verified: Promise<void> | undefined;

  constructor(options: RedisIdempotencyStoreOptions) {
    assertFailFastClient(options.client, 'RedisIdempotencyStore');
    const prefix = options.keyPrefix ?? DEFAULT_IDEMPOTENCY_PREFIX;
    if (typeof prefix !== 'string') {
      throw new InvalidOptionsError('RedisIdempotencyStore keyPrefix must be a string', {
        keyPrefix: prefix,
      });
    }
    this.client = options.client;
    this.prefix = prefix;
    this.readPolicy = options.readEvictionPolicy;
  }

  /** Resolves once the server is known not to evict keys; a failed check is retried on the next call. */
  verify(): Promise<void> {
    this.verified ??= assertNoEviction(this.client, 'RedisIdempotencyStore', this.readPolicy).catch(
      (error: unknown) => {
        this.verified = undefined;
        throw error;
      },
    );
    return this.verified;
  }

  async acquire(key: string, leaseMs: number): Promise<AcquireResult> {
    const lease = positiveMs('leaseMs', leaseMs);
    await this.verify();
    const token = randomUUID();
    const status = await acquireScript.run(this.client, [this.keyOf(key)], [token, lease]);
    if (status === 'acquired') return { status, token };
    if (status === 'in-flight' || status === 'done') return { status };
    throw new InvalidStateError('Unexpected reply from the Redis idempotency script', {
      reply: String(status),
    });
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    const lease = positiveMs('leaseMs', leaseMs);
    return (await renewScript.run(this.client, [this.keyOf(key)], [token, lease])) === 1;
  }

  async markDone(key: string, token: string, windowMs: number): Promise<boolean> {
    const window = positiveMs('windowMs', windowMs);
    return (await markDoneScript.run(this.client, [this.keyOf(key)], [token, window])) === 1;
  }

  async release(key: string, token: string): Promise<boolean> {
    return (await releaseScript.run(this.client, [this.keyOf(key)], [token])) === 1;
  }

  private keyOf(key: string): string {
    if (typeof key !== 'string' || key === '') {
      throw new InvalidOptionsError('An idempotency key must be a non-empty string', {
        key: String(key),
      });
    }
    return this.prefix + key;
  }
}

/** Whole milliseconds, at least 1: PX rejects 0 and fractions. */
function positiveMs(name: string, value: number): number {
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
    throw new InvalidOptionsError(`${name} must be a positive number of milliseconds`, {
      [name]: value,
    });
  }
  return Math.ceil(value);
}
