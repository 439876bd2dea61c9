import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { InvalidOptionsError, InvalidStateError } from '@edakit/core';
import type { Redis } from 'ioredis';
import type { OutboxRecord, StuckRecord } from '../outbox-record';
import type {
  ClaimOptions,
  OutboxClaim,
  OutboxStats,
  OutboxStore,
  SettleRequest,
  SettleResult,
} from '../outbox-store';
import { assertNoEviction, type EvictionPolicyReader } from './eviction-policy';
import {
  listStuckScript,
  pruneConsumersScript,
  replayScript,
  statsScript,
} from './outbox-admin-scripts';
import { claimScript } from './outbox-claim-script';
import { toRecord } from './outbox-entry';
import { DEFAULT_OUTBOX_PREFIX, type OutboxKeys, outboxKeys, RELAY_GROUP } from './outbox-keys';
import { settlePlan } from './outbox-settle-plan';
import { settleScript } from './outbox-settle-script';
import { assertFailFastClient, assertNoClientKeyPrefix, untilReady } from './redis-client';

export interface RedisOutboxStoreOptions {
  /**
   * Created with `enableOfflineQueue: false` and a bounded
   * `maxRetriesPerRequest` (see failFastRedisOptions); refused otherwise.
   * The store never closes it.
   */
  readonly client: Redis;
  /** Same prefix as the RedisOutbox that writes. Default `edakit:outbox:`. */
  readonly prefix?: string;
  /** This relay's consumer name in the stream's group. Default: host, pid and a random suffix. */
  readonly consumer?: string;
  /** Most new stream entries one claim takes in. Default 1000. */
  readonly intakeBatch?: number;
  /** How the eviction policy is read; the default asks the server. */
  readonly readEvictionPolicy?: EvictionPolicyReader;
}

/**
 * The relay side of a Redis outbox (written by RedisOutbox).
 *
 * Entries sit in one stream, in commit order. A claim reads new entries with
 * XREADGROUP into a queue per key, then leases ready keys: a key's lease is its
 * score in a schedule (now + leaseMs) plus a token, taken in one script, so at
 * most one relay holds a key and publishes its rows in order. XCLAIM moves the
 * claimed entries to the claiming relay's pending list. Settle checks the
 * token per key (a relay whose lease expired and whose keys were claimed again
 * changes nothing), then XACKs and deletes published entries: the stream only
 * ever holds unpublished rows. A dead relay's keys come back when their lease
 * score passes; a failed row keeps its key out of the schedule until its retry
 * time, or for good once dead, while other keys flow.
 *
 * Redis is weaker than PostgreSQL here: AOF fsync'd every second and
 * asynchronous replication can lose recent entries on a crash or failover.
 * Standalone Redis only (not Cluster).
 */
export class RedisOutboxStore implements OutboxStore {
  readonly consumer: string;
  private readonly client: Redis;
  private readonly keys: OutboxKeys;
  private readonly intakeBatch: number;

  private constructor(options: RedisOutboxStoreOptions) {
    assertFailFastClient(options.client, 'RedisOutboxStore');
    assertNoClientKeyPrefix(options.client.options.keyPrefix, 'RedisOutboxStore');
    this.client = options.client;
    this.keys = outboxKeys(options.prefix ?? DEFAULT_OUTBOX_PREFIX);
    this.consumer = options.consumer ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.intakeBatch = options.intakeBatch ?? 1000;
    if (!Number.isInteger(this.intakeBatch) || this.intakeBatch < 1) {
      throw new InvalidOptionsError('RedisOutboxStore intakeBatch must be a positive integer', {
        intakeBatch: this.intakeBatch,
      });
    }
  }

  /**
   * Waits until the client is connected (connecting a lazy one), checks the server (maxmemory-policy must be noeviction: EDAKIT_INVALID_STATE
   * otherwise) and creates the stream's consumer group if needed.
   */
  static async open(options: RedisOutboxStoreOptions): Promise<RedisOutboxStore> {
    const store = new RedisOutboxStore(options);
    await untilReady(store.client);
    await assertNoEviction(store.client, 'RedisOutboxStore', options.readEvictionPolicy);
    await store.createGroup();
    return store;
  }

  async claim(options: ClaimOptions): Promise<OutboxClaim | undefined> {
    const limit = positiveInteger('limit', options.limit);
    const leaseMs = positiveInteger('leaseMs', Math.ceil(options.leaseMs));
    const token = randomUUID();
    const { keys } = this;
    const reply = await this.withGroup(() =>
      claimScript.runBuffer(
        this.client,
        [keys.log, keys.ready, keys.leases, keys.failures, keys.dead],
        [RELAY_GROUP, this.consumer, token, limit, leaseMs, this.intakeBatch, keys.queuePrefix],
      ),
    );
    const records = rowsOf(reply).map(([streamId, fields, attempts]) =>
      toRecord(String(streamId), fields as Buffer[], Number(attempts)),
    );
    if (records.length === 0) return undefined;
    records.sort(byKeyThenSequence);
    return { token, records };
  }

  async settle(claim: OutboxClaim, request: SettleRequest): Promise<SettleResult> {
    const plan = settlePlan(claim, request, Date.now());
    if (plan.keys.length === 0) return { published: 0, fenced: plan.stray };
    const { keys } = this;
    const reply = await settleScript.run(
      this.client,
      [keys.log, keys.ready, keys.leases, keys.failures, keys.dead, keys.stuck, keys.deadIds],
      [RELAY_GROUP, claim.token, keys.queuePrefix, JSON.stringify(plan.keys)],
    );
    const [published = 0, fenced = 0] = numbers(reply, 2);
    return { published, fenced: fenced + plan.stray };
  }

  async stats(): Promise<OutboxStats> {
    const reply = await statsScript.run(this.client, [this.keys.log, this.keys.dead], []);
    const [pending = 0, oldestPendingAgeMs = 0, dead = 0] = numbers(reply, 3);
    return { pending, oldestPendingAgeMs, dead };
  }

  async listStuck(limit: number): Promise<StuckRecord[]> {
    const count = positiveInteger('limit', limit);
    const { keys } = this;
    const reply = await listStuckScript.runBuffer(
      this.client,
      [keys.stuck, keys.failures, keys.log],
      [count],
    );
    return rowsOf(reply).map(([streamId, fields, attempts, error, retryAt]) => {
      const record = toRecord(String(streamId), fields as Buffer[], Number(attempts));
      const at = Number(retryAt);
      return {
        record,
        lastError: String(error),
        retryAt: at < 0 ? undefined : new Date(at),
      };
    });
  }

  async replay(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const { keys } = this;
    const reply = await replayScript.run(
      this.client,
      [keys.ready, keys.failures, keys.dead, keys.stuck, keys.deadIds],
      ids.map(String),
    );
    return Number(reply);
  }

  /**
   * Always 0: a published entry is deleted when its claim settles, so there is
   * no published row to keep. Housekeeping only: deletes consumers of the
   * group that hold nothing and were idle longer than `olderThanMs` (relays
   * that stopped), so the group does not grow with every restart.
   */
  async prune(olderThanMs: number, _limit: number): Promise<number> {
    if (!(olderThanMs >= 0)) {
      throw new InvalidOptionsError('prune olderThanMs must be zero or more', { olderThanMs });
    }
    await this.withGroup(() =>
      pruneConsumersScript.run(
        this.client,
        [this.keys.log],
        [RELAY_GROUP, Math.floor(olderThanMs), this.consumer],
      ),
    );
    return 0;
  }

  private async createGroup(): Promise<void> {
    try {
      // From 0: entries written before any relay ever started are relayed too.
      await this.client.xgroup('CREATE', this.keys.log, RELAY_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
    }
  }

  /** Runs `call`, recreating the group once if the stream was deleted under it. */
  private async withGroup<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof Error && /NOGROUP|no such key/i.test(error.message))) throw error;
      await this.createGroup();
      return call();
    }
  }
}

function rowsOf(reply: unknown): unknown[][] {
  if (!Array.isArray(reply)) {
    throw new InvalidStateError('Unexpected reply from a Redis outbox script', {
      reply: String(reply),
    });
  }
  return reply as unknown[][];
}

/** The script's integers; the length is checked, so destructuring defaults never apply. */
function numbers(reply: unknown, count: number): number[] {
  const values = Array.isArray(reply) ? reply.map(Number) : [];
  if (values.length !== count || values.some((value) => !Number.isFinite(value))) {
    throw new InvalidStateError('Unexpected reply from a Redis outbox script', {
      reply: String(reply),
    });
  }
  return values;
}

function positiveInteger(name: string, value: number): number {
  if (!(Number.isInteger(value) && value > 0)) {
    throw new InvalidOptionsError(`${name} must be a positive integer`, { [name]: value });
  }
  return value;
}

function byKeyThenSequence(a: OutboxRecord, b: OutboxRecord): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.sequence - b.sequence;
}
