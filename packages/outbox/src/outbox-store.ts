import type { OutboxRecord, StuckRecord } from './outbox-record';

/**
 * Rows a relay holds under one lease. Only the holder of `token` can settle
 * them; once the lease expires another relay may claim the same keys and a
 * late settle with the old token changes nothing.
 */
export interface OutboxClaim {
  readonly token: string;
  /** Sorted by key, then sequence; for each key, a gap-free run from its oldest unpublished row. */
  readonly records: readonly OutboxRecord[];
}

export interface ClaimOptions {
  /** Most rows in one claim. */
  readonly limit: number;
  /** How long the claimed keys stay reserved for this relay. */
  readonly leaseMs: number;
}

/** What the relay learned from publishing one claim. */
export interface SettleRequest {
  /** Rows the broker confirmed. */
  readonly published: readonly OutboxRecord[];
  /**
   * At most one row per key: the first row of its key that failed. Its key's
   * later rows stay unpublished behind it. `retryAt` undefined marks it dead.
   */
  readonly failed: readonly FailedPublish[];
}

export interface FailedPublish {
  readonly record: OutboxRecord;
  readonly error: string;
  readonly retryAt: Date | undefined;
}

export interface SettleResult {
  /** Rows marked published by this settle. */
  readonly published: number;
  /** Rows left alone because this claim's lease was lost (another relay owns the key now). */
  readonly fenced: number;
}

/** Figures an operator watches. */
export interface OutboxStats {
  /** Rows not yet published, dead rows included. */
  readonly pending: number;
  /** Age of the oldest unpublished row, 0 when there is none. */
  readonly oldestPendingAgeMs: number;
  /** Rows that exhausted their attempts and block their key until replayed. */
  readonly dead: number;
}

/**
 * Where an outbox keeps its rows. The relay drives it: claim, publish outside
 * any transaction, settle. Stores differ in how rows are written (a caller's
 * SQL transaction, a Redis script, memory); the relay does not care.
 */
export interface OutboxStore {
  /** Reserves ready keys and returns their runs of rows; undefined when nothing is ready. */
  claim(options: ClaimOptions): Promise<OutboxClaim | undefined>;
  /** Records the outcome and ends the claim's lease. */
  settle(claim: OutboxClaim, request: SettleRequest): Promise<SettleResult>;
  stats(): Promise<OutboxStats>;
  /** Rows that block their key (backing off or dead), oldest first. */
  listStuck(limit: number): Promise<StuckRecord[]>;
  /** Makes dead rows publishable again (attempts reset); returns how many it revived. */
  replay(ids: readonly string[]): Promise<number>;
  /** Deletes published rows older than `olderThanMs`, at most `limit`; returns how many. */
  prune(olderThanMs: number, limit: number): Promise<number>;
}
