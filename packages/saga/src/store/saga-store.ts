import type { PreparedEvent } from '@edakit/core';
import type { OutboxStore, WakeSource } from '@edakit/outbox';
import type { SagaInstance, SagaStatus } from '../engine/saga-instance';

/** A timer that came due, claimed by one runtime for `leaseMs`. */
export interface DueTimeout {
  readonly saga: string;
  readonly id: string;
  readonly token: string;
}

/** Instances of one saga, by status. */
export type InstanceCounts = Readonly<Record<SagaStatus, number>>;

export interface SagaQuery {
  readonly saga: string;
  readonly status?: SagaStatus;
  readonly limit?: number;
}

/**
 * Where saga instances live. Every write is atomic with the messages the
 * transition sends (into the store's outbox) and with the instance's timer
 * (`instance.timeout`, indexed for `claimDueTimeouts`), so a crash leaves an
 * instance before or after a transition, never between.
 */
export interface SagaStore {
  /** Inserts the instance (version 1) unless one with its id exists; false then. */
  create(instance: SagaInstance, sends: readonly PreparedEvent[]): Promise<boolean>;
  load(saga: string, id: string): Promise<SagaInstance | undefined>;
  /**
   * Compare-and-set: stores `instance` only if the stored version is
   * `instance.version - 1`; false when another writer got there first.
   */
  update(instance: SagaInstance, sends: readonly PreparedEvent[]): Promise<boolean>;
  /**
   * Timers due at `now`, at most `limit`, each pushed `leaseMs` forward so
   * another runtime does not fire it meanwhile; a runtime that dies with it
   * lets it fire again after the lease.
   */
  claimDueTimeouts(now: number, limit: number, leaseMs: number): Promise<DueTimeout[]>;
  find(query: SagaQuery): Promise<SagaInstance[]>;
  /**
   * How many instances of `saga` the store holds, by status: running ones,
   * and finished ones until the store drops them (tombstones).
   */
  countInstances(saga: string): Promise<InstanceCounts>;
  /** The messages transitions sent, for a relay to publish. */
  readonly outbox: OutboxStore;
  /** Signals writes to the outbox, so the relay publishes at once. */
  readonly commits: WakeSource;
}

/** Commands a store leased to the runtime that wrote them. */
export interface SendLease {
  /**
   * Ends the lease once the runtime tried to publish them: published, or not
   * (they go to the store's outbox, whose relay retries them). Once only.
   */
  settle(published: boolean): Promise<void>;
}

/**
 * What a dispatching write did: `false` when the instance changed meanwhile
 * (or exists, for a create); otherwise the instance as a load would now
 * return it, and the lease on its commands when the caller is to publish
 * them itself (none when there were none, or when they wait behind earlier
 * commands of the instance and the store relays them).
 */
export type DispatchedWrite =
  | false
  | { readonly stored: SagaInstance; readonly lease: SendLease | undefined };

/**
 * Optional ability of a store: the runtime publishes a transition's commands
 * itself, right after the write, instead of through the outbox relay. The
 * commands are still stored with the state (atomically), leased to the
 * writer; whatever the writer does not settle in time (it died) or could not
 * publish goes to the store's outbox, whose relay publishes it. One
 * instance's commands leave in the order of its transitions while leases
 * hold, as through the outbox.
 */
export interface DispatchingSagaStore extends SagaStore {
  /** `create` (mode 'create') or `update`, with the commands leased to the caller. */
  doWrite(
    mode: 'create' | 'update',
    instance: SagaInstance,
    sends: readonly PreparedEvent[],
  ): Promise<DispatchedWrite>;
  /** Moves commands whose lease ran out to the outbox; resolves how many leases ended. */
  doSweepSends(limit: number): Promise<number>;
}

export function isDispatchingStore(store: SagaStore): store is DispatchingSagaStore {
  return typeof (store as Partial<DispatchingSagaStore>).doWrite === 'function';
}

/** Optional ability of a store whose finished instances stay until deleted (PostgreSQL). */
export interface TombstonePruning {
  /** Deletes at most `limit` tombstones older than the store's TTL at `now`; resolves how many. */
  pruneTombstones(now: number, limit: number): Promise<number>;
}

export function prunesTombstones(store: SagaStore): store is SagaStore & TombstonePruning {
  return typeof (store as Partial<TombstonePruning>).pruneTombstones === 'function';
}
