/** Result of trying to take an event for processing. */
export type AcquireResult =
  | { readonly status: 'acquired'; readonly token: string }
  /** Another consumer holds an unexpired lease on it. */
  | { readonly status: 'in-flight' }
  /** Already processed within the dedupe window. */
  | { readonly status: 'done' };

/**
 * Remembers which events a handler processed. Leases are token-fenced: a holder
 * whose lease expired (and was taken by someone else) can neither mark the key
 * done nor release it. Implementations: memory (here), Redis and PostgreSQL
 * (@edakit/outbox).
 */
export interface IdempotencyStore {
  /** Atomically takes `key` for `leaseMs`, unless it is held or done. */
  acquire(key: string, leaseMs: number): Promise<AcquireResult>;
  /** Extends a lease still held with `token`; false when it was lost. */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Marks processed for `windowMs`, if `token` still holds the lease. */
  markDone(key: string, token: string, windowMs: number): Promise<boolean>;
  /** Drops the lease so a retry can process the event, if `token` holds it. */
  release(key: string, token: string): Promise<boolean>;
}
