// From node:timers, not the global: fake timers in a user's tests replace the
// global, and writes must still go out.
import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers';
import { InvalidOptionsError, InvalidStateError, type PreparedEvent } from '@edakit/core';
import { CommitSignal } from '@edakit/outbox';
import type { Redis } from 'ioredis';
import { SAGA_STATUSES, type SagaInstance } from '../engine/saga-instance';
import type {
  DispatchedWrite,
  DispatchingSagaStore,
  DueTimeout,
  InstanceCounts,
  SagaQuery,
  SendLease,
} from '../store/saga-store';
import { encodeInstance, instanceFromJson } from './instance-json';
import { commandFields } from './leased-sends';
import { type PackedField, packFields } from './packed-fields';
import {
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
import {
  batchScript,
  claimScript,
  countScript,
  findScript,
  sweepScript,
} from './redis-saga-scripts';

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
  /**
   * How long a runtime that publishes a transition's commands itself holds
   * them before they go to the outbox (it died, or never said it published
   * them). Default 30 s.
   */
  readonly sendLeaseMs?: number;
  /** How the eviction policy is read; the default asks the server (CONFIG GET, then INFO). */
  readonly readEvictionPolicy?: EvictionPolicyReader;
  /** The outbox relay's consumer name in the stream's group. Default: host, pid and a random suffix. */
  readonly outboxConsumer?: string;
}

export const DEFAULT_TOMBSTONE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_SEND_LEASE_MS = 30_000;

/** Operations that go out at once, without waiting for the end of the turn. */
const FLUSH_AT = 16;
/** Instances whose last leased write this store remembers as published. */
const PUBLISHED_MEMORY = 10_000;

/** One operation waiting for the turn's batch. */
interface Operation {
  /** Its kind and fields, as batchScript reads them. */
  readonly fields: readonly PackedField[];
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: unknown) => void;
}

/** An operation's reply, and the lease its batch gave the commands it leased. */
interface Reply {
  readonly text: string;
  readonly lease: string;
}

/**
 * Saga instances in Redis. A write is a Lua compare-and-set on the version
 * (or a create guarded like NX) that also re-indexes the instance's timer and
 * status and stores the transition's commands, all or nothing. Writes and
 * settles asked for in one turn of the event loop go to Redis as one script
 * call, each still atomic on its own.
 *
 * The commands of a runtime's write (`doWrite`) are leased to that runtime:
 * it publishes them right away and settles the lease. Commands it does not
 * settle within `sendLeaseMs` (it died) or could not publish go to the
 * store's outbox (a RedisOutboxStore under `<prefix>outbox:`), whose relay
 * publishes them; so do commands of `create` and `update`. A crash leaves the
 * instance before or after a transition, with its commands or without.
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
export class RedisSagaStore implements DispatchingSagaStore {
  readonly outbox: RedisOutboxStore;
  readonly commits = new CommitSignal();
  readonly keys: SagaKeys;
  readonly tombstoneTtlMs: number;
  readonly sendLeaseMs: number;
  private readonly client: Redis;
  /** Keys every batch names first, and the arguments every batch starts with. */
  private readonly sharedKeys: readonly string[];
  private readonly sharedArgs: readonly string[];
  private pending: Operation[] | undefined;
  /** Per lease, how many of its writes were not settled yet. */
  private readonly unsettled = new Map<string, number>();
  /**
   * Per instance ("<saga>:<id>"), the version of its last leased write that
   * was published: its next write need not ask whether that lease still holds.
   */
  private readonly published = new Map<string, string>();
  /** Leases some instance finished with (their tombstones drop the commands when they end). */
  private readonly finishing = new Set<string>();

  private constructor(
    client: Redis,
    keys: SagaKeys,
    ttl: number,
    lease: number,
    outbox: RedisOutboxStore,
  ) {
    this.client = client;
    this.keys = keys;
    this.tombstoneTtlMs = ttl;
    this.sendLeaseMs = lease;
    this.outbox = outbox;
    this.sharedKeys = [
      keys.timers,
      keys.timerTokens,
      keys.sends,
      `${keys.outboxPrefix}log`,
      `${keys.outboxPrefix}seq`,
    ];
    this.sharedArgs = [keys.prefix, String(ttl), String(lease)];
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
    const lease = options.sendLeaseMs ?? DEFAULT_SEND_LEASE_MS;
    for (const [option, value] of [
      ['tombstoneTtlMs', ttl],
      ['sendLeaseMs', lease],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new InvalidOptionsError(`RedisSagaStore ${option} must be a positive integer`, {
          option,
          value,
        });
      }
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
    return new RedisSagaStore(client, keys, ttl, lease, outbox);
  }

  async create(instance: SagaInstance, sends: readonly PreparedEvent[]): Promise<boolean> {
    return (await this.write('create', instance, sends, false)) !== false;
  }

  async load(saga: string, id: string): Promise<SagaInstance | undefined> {
    const key = this.keys.instance(saga, id);
    const json = await this.client.hget(key, 'j');
    return json === null ? undefined : instanceFromJson(json, key);
  }

  async update(instance: SagaInstance, sends: readonly PreparedEvent[]): Promise<boolean> {
    return (await this.write('update', instance, sends, false)) !== false;
  }

  doWrite(
    mode: 'create' | 'update',
    instance: SagaInstance,
    sends: readonly PreparedEvent[],
  ): Promise<DispatchedWrite> {
    return this.write(mode, instance, sends, true);
  }

  async doSweepSends(limit: number): Promise<number> {
    positiveInteger('limit', limit);
    const { keys } = this;
    const reply = await sweepScript.run(
      this.client,
      [keys.sends, `${keys.outboxPrefix}log`, `${keys.outboxPrefix}seq`],
      [keys.prefix, limit],
    );
    const [leases = 0, moved = 0] = Array.isArray(reply) ? reply.map(Number) : [];
    if (moved > 0) this.commits.emit();
    return leases;
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
    const statuses = status === undefined ? SAGA_STATUSES : [status];
    const reply = await findScript.run(
      this.client,
      statuses.map((s) => this.keys.status(saga, s)),
      [this.keys.instancePrefix(saga), limit],
    );
    return strings(reply).map((json) => instanceFromJson(json, this.keys.instancePrefix(saga)));
  }

  /** By status: the status indexes' members whose tombstones have not expired (running: all). */
  async countInstances(saga: string): Promise<InstanceCounts> {
    const reply = await countScript.run(
      this.client,
      SAGA_STATUSES.map((s) => this.keys.status(saga, s)),
      [],
    );
    const [running, completed, compensated] = (reply as unknown[]).map(Number);
    return { running: running ?? 0, completed: completed ?? 0, compensated: compensated ?? 0 };
  }

  private async write(
    mode: 'create' | 'update',
    instance: SagaInstance,
    sends: readonly PreparedEvent[],
    dispatch: boolean,
  ): Promise<DispatchedWrite> {
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
    const key = this.keys.instance(instance.saga, instance.id);
    const { json, stored } = encodeInstance(instance);
    const member = timerMember(instance.saga, instance.id);
    const published = this.published.get(member);
    // A finished instance is written no more.
    if (instance.status !== 'running') this.published.delete(member);
    const reply = await this.enqueue([
      'w',
      key,
      member,
      this.keys.statusPrefix(instance.saga),
      instance.id,
      mode,
      mode === 'update' ? String(instance.version - 1) : '',
      String(instance.version),
      instance.status,
      json,
      timeout === undefined ? '' : String(timeout.dueAt),
      timeout === undefined ? '' : timeout.token,
      dispatch ? '1' : '0',
      published ?? '',
      sends.length === 0 ? '' : commandFields(sends),
    ]);
    switch (reply.text) {
      case 'exists':
      case 'conflict':
        return false;
      case 'relayed':
        this.commits.emit();
        break;
      case 'ok':
      case 'queued':
        break;
      case 'dispatch':
        return { stored, lease: this.leaseOf(reply.lease, instance, key, member) };
      default:
        if (reply.text.startsWith('error:')) {
          throw new InvalidStateError(reply.text.slice(6), { key });
        }
        throw new InvalidStateError('Unexpected reply from the saga write script', {
          reply: reply.text,
        });
    }
    return { stored, lease: undefined };
  }

  /**
   * The handle on one write's share of a lease. A lease ends (one operation)
   * once every write it covers is settled; a write whose commands were not
   * published sends them to the outbox at once.
   */
  private leaseOf(lease: string, instance: SagaInstance, key: string, member: string): SendLease {
    const version = String(instance.version);
    const running = instance.status === 'running';
    if (!running) this.finishing.add(lease);
    let settled = false;
    return {
      settle: async (published) => {
        if (settled) return;
        settled = true;
        let moved = 0;
        if (published) {
          if (running) this.remember(member, version);
        } else {
          moved += Number((await this.enqueue(['r', key, member, lease])).text);
        }
        const left = (this.unsettled.get(lease) ?? 1) - 1;
        if (left > 0) {
          this.unsettled.set(lease, left);
        } else {
          this.unsettled.delete(lease);
          const finished = this.finishing.delete(lease);
          moved += Number((await this.enqueue(['e', lease, finished ? '1' : '0'])).text);
        }
        if (moved > 0) this.commits.emit();
      },
    };
  }

  private remember(member: string, version: string): void {
    this.published.delete(member);
    this.published.set(member, version);
    if (this.published.size > PUBLISHED_MEMORY) {
      const oldest = this.published.keys().next();
      if (oldest.done !== true) this.published.delete(oldest.value);
    }
  }

  /**
   * Queues one operation; resolves with its own reply. Operations go out at
   * the end of the turn, or as soon as FLUSH_AT of them wait: a burst of
   * writes then reaches Redis in a few calls, the first while the rest are
   * still being prepared.
   */
  private enqueue(fields: readonly PackedField[]): Promise<Reply> {
    return new Promise((resolve, reject) => {
      let pending = this.pending;
      if (pending === undefined) {
        const operations: Operation[] = [];
        pending = operations;
        this.pending = operations;
        nextTurn(() => {
          if (this.pending === operations) this.pending = undefined;
          if (operations.length > 0) void this.run(operations);
        });
      }
      pending.push({ fields, resolve, reject });
      if (pending.length >= FLUSH_AT) {
        this.pending = undefined;
        void this.run(pending.splice(0));
      }
    });
  }

  private async run(operations: readonly Operation[]): Promise<void> {
    const fields: PackedField[] = [];
    for (const operation of operations) for (const field of operation.fields) fields.push(field);
    const lease = randomUUID();
    let replies: string[];
    try {
      replies = strings(
        await batchScript.run(this.client, this.sharedKeys, [
          ...this.sharedArgs,
          lease,
          packFields(fields),
        ]),
      );
      if (replies.length !== operations.length) {
        throw new InvalidStateError('Unexpected reply from the saga write script', {
          replies: replies.length,
          operations: operations.length,
        });
      }
    } catch (error) {
      for (const operation of operations) operation.reject(error);
      return;
    }
    const leased = replies.filter((reply) => reply === 'dispatch').length;
    if (leased > 0) this.unsettled.set(lease, leased);
    for (const [index, operation] of operations.entries()) {
      operation.resolve({ text: replies[index] as string, lease });
    }
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
