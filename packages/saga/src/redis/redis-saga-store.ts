import { InvalidOptionsError, InvalidStateError, type PreparedEvent } from '@edakit/core';
import { CommitSignal } from '@edakit/outbox';
import type { Redis } from 'ioredis';
import type { SagaInstance, SagaStatus } from '../engine/saga-instance';
import type { DueTimeout, SagaQuery, SagaStore } from '../store/saga-store';
import { instanceFromJson, instanceToJson } from './instance-json';
import {
  appendArguments,
  assertFailFastClient,
  assertNoEviction,
  type EvictionPolicyReader,
  RedisOutboxStore,
  untilReady,
} from './redis-outbox-link';
import {
  DEFAULT_SAGA_PREFIX,
  type SagaKeys,
  sagaKeys,
  splitTimerMember,
  timerMember,
} from './redis-saga-keys';
import { claimScript, findScript, type ScriptArgument, writeScript } from './redis-saga-scripts';

export interface RedisSagaStoreOptions {
  /**
   * Created with `enableOfflineQueue: false` and a bounded
   * `maxRetriesPerRequest` (spread `failFastRedisOptions` from
   * @edakit/outbox into its options); refused otherwise. Standalone Redis
   * 7 or later. The store never closes it.
   */
  readonly client: Redis;
  /**
   * Prefix of every key; must contain a hash tag (`{...}`) so an instance,
   * its timer and its commands share one Cluster slot. One store, one tag.
   * Default `edakit:saga:{sagas}:`.
   */
  readonly prefix?: string;
  /** How long a completed or compensated instance is kept to recognise late messages. Default 7 days. */
  readonly tombstoneTtlMs?: number;
  /** How the eviction policy is read; the default asks the server (CONFIG GET, then INFO). */
  readonly readEvictionPolicy?: EvictionPolicyReader;
  /** The outbox relay's consumer name in the stream's group. Default: host, pid and a random suffix. */
  readonly outboxConsumer?: string;
}

export const DEFAULT_TOMBSTONE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

const STATUSES: readonly SagaStatus[] = ['running', 'completed', 'compensated'];

/**
 * Saga instances in Redis. Each write is one Lua script: create-if-absent or
 * compare-and-set on the version, the instance's timer and status index, and
 * the commands of the transition appended to the store's outbox (a
 * RedisOutboxStore under `<prefix>outbox:`, relayed by the runtime). A crash
 * leaves the instance before or after a transition, with its commands or
 * without.
 *
 * Finished instances stay as tombstones for `tombstoneTtlMs`, then expire.
 * Redis durability is weaker than PostgreSQL's: with AOF fsync'd every second
 * and asynchronous replication, a crash or failover can lose the last writes.
 *
 * @example
 * const client = new Redis({ host, ...failFastRedisOptions });
 * const store = await RedisSagaStore.open({ client, prefix: 'shop:saga:{orders}:' });
 * const runtime = createSagaRuntime({ bus, transport, store, sagas: [OrderSaga] });
 */
export class RedisSagaStore implements SagaStore {
  readonly outbox: RedisOutboxStore;
  readonly commits = new CommitSignal();
  readonly keys: SagaKeys;
  readonly tombstoneTtlMs: number;
  private readonly client: Redis;

  private constructor(client: Redis, keys: SagaKeys, ttl: number, outbox: RedisOutboxStore) {
    this.client = client;
    this.keys = keys;
    this.tombstoneTtlMs = ttl;
    this.outbox = outbox;
  }

  /**
   * Checks the client (fail-fast options) and the server (maxmemory-policy
   * must be noeviction: InvalidStateError otherwise, since an evicted
   * instance, timer or command would vanish without a trace), then opens the
   * commands' outbox.
   */
  static async open(options: RedisSagaStoreOptions): Promise<RedisSagaStore> {
    assertFailFastClient(options.client, 'RedisSagaStore');
    const keys = sagaKeys(options.prefix ?? DEFAULT_SAGA_PREFIX);
    const ttl = options.tombstoneTtlMs ?? DEFAULT_TOMBSTONE_TTL_MS;
    if (!Number.isInteger(ttl) || ttl < 1) {
      throw new InvalidOptionsError('RedisSagaStore tombstoneTtlMs must be a positive integer', {
        option: 'tombstoneTtlMs',
        value: ttl,
      });
    }
    const client = options.client;
    await untilReady(client);
    await assertNoEviction(client, 'RedisSagaStore', options.readEvictionPolicy);
    const outbox = await RedisOutboxStore.open({
      client,
      prefix: keys.outboxPrefix,
      ...(options.readEvictionPolicy ? { readEvictionPolicy: options.readEvictionPolicy } : {}),
      ...(options.outboxConsumer ? { consumer: options.outboxConsumer } : {}),
    });
    return new RedisSagaStore(client, keys, ttl, outbox);
  }

  async create(instance: SagaInstance, sends: readonly PreparedEvent[]): Promise<boolean> {
    return this.write('create', instance, sends);
  }

  async load(saga: string, id: string): Promise<SagaInstance | undefined> {
    const key = this.keys.instance(saga, id);
    const json = await this.client.hget(key, 'j');
    return json === null ? undefined : instanceFromJson(json, key);
  }

  async update(instance: SagaInstance, sends: readonly PreparedEvent[]): Promise<boolean> {
    return this.write('update', instance, sends);
  }

  async claimDueTimeouts(now: number, limit: number, leaseMs: number): Promise<DueTimeout[]> {
    finite('now', now);
    positiveInteger('limit', limit);
    positiveInteger('leaseMs', leaseMs);
    const reply = await claimScript.run(
      this.client,
      [this.keys.timers, this.keys.timerTokens],
      [now, limit, now + leaseMs],
    );
    const flat = strings(reply);
    const due: DueTimeout[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      due.push({ ...splitTimerMember(flat[i] as string), token: flat[i + 1] as string });
    }
    return due;
  }

  async find({ saga, status, limit = 100 }: SagaQuery): Promise<SagaInstance[]> {
    positiveInteger('limit', limit);
    const statuses = status === undefined ? STATUSES : [status];
    const reply = await findScript.run(
      this.client,
      statuses.map((s) => this.keys.status(saga, s)),
      [this.keys.instancePrefix(saga), limit],
    );
    return strings(reply).map((json) => instanceFromJson(json, this.keys.instancePrefix(saga)));
  }

  private async write(
    mode: 'create' | 'update',
    instance: SagaInstance,
    sends: readonly PreparedEvent[],
  ): Promise<boolean> {
    positiveInteger('version', instance.version);
    if (mode === 'update' && instance.version < 2) {
      throw new InvalidOptionsError('An update stores version 2 or later (the stored one + 1)', {
        saga: instance.saga,
        sagaId: instance.id,
        version: instance.version,
      });
    }
    const timeout = instance.timeout;
    if (timeout !== undefined) finite('timeout.dueAt', timeout.dueAt);
    const { keys } = this;
    const member = timerMember(instance.saga, instance.id);
    const args: ScriptArgument[] = [
      mode,
      instance.version - 1,
      instance.version,
      instance.status,
      instanceToJson(instance),
      member,
      instance.id,
      timeout === undefined ? '' : timeout.dueAt,
      timeout === undefined ? '' : timeout.token,
      this.tombstoneTtlMs,
      sends.length,
    ];
    for (const event of sends) args.push(...appendArguments(event));
    const reply = await writeScript.run(
      this.client,
      [
        keys.instance(instance.saga, instance.id),
        keys.timers,
        keys.timerTokens,
        ...STATUSES.map((status) => keys.status(instance.saga, status)),
        `${keys.outboxPrefix}log`,
        `${keys.outboxPrefix}seq`,
      ],
      args,
    );
    if (reply === 'ok') {
      if (sends.length > 0) this.commits.emit();
      return true;
    }
    if (reply === 'exists' || reply === 'conflict') return false;
    throw new InvalidStateError('Unexpected reply from the saga write script', {
      reply: String(reply),
    });
  }
}

function strings(reply: unknown): string[] {
  if (!Array.isArray(reply) || reply.some((item) => typeof item !== 'string')) {
    throw new InvalidStateError('Unexpected reply from a saga store script', {
      reply: String(reply),
    });
  }
  return reply as string[];
}

function positiveInteger(name: string, value: number): void {
  if (!(Number.isInteger(value) && value > 0)) {
    throw new InvalidOptionsError(`${name} must be a positive integer`, { [name]: value });
  }
}

function finite(name: string, value: number): void {
  if (!Number.isFinite(value)) {
    throw new InvalidOptionsError(`${name} must be a finite number`, { [name]: value });
  }
}
