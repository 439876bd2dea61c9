import type { PreparedEvent } from '@edakit/core';
import type { OutboxStore, WakeSource } from '@edakit/outbox';
import type { SagaInstance, SagaStatus } from '../engine/saga-instance';

/** A timer that came due, claimed by one runtime for `leaseMs`. */
export interface DueTimeout {
  readonly saga: string;
  readonly id: string;
  readonly token: string;
}

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
  /** The messages transitions sent, for a relay to publish. */
  readonly outbox: OutboxStore;
  /** Signals writes to the outbox, so the relay publishes at once. */
  readonly commits: WakeSource;
}
