import { randomUUID } from 'node:crypto';
import type { PreparedEvent } from '@edakit/core';
import { CommitSignal } from '../commit-signal';
import type { OutboxRecord, StuckRecord } from '../outbox-record';
import type {
  ClaimOptions,
  OutboxClaim,
  OutboxStats,
  OutboxStore,
  SettleRequest,
  SettleResult,
} from '../outbox-store';

interface Row {
  record: OutboxRecord;
  lastError: string;
  retryAt: number | undefined;
  dead: boolean;
  publishedAt: number | undefined;
}

interface Lease {
  token: string;
  until: number;
}

/**
 * The outbox for the embedded default and for tests: same claim, lease,
 * fencing and per-key rules as the PostgreSQL store, kept in memory (so it
 * survives nothing: a process that dies loses what it had not relayed).
 */
export class MemoryOutbox implements OutboxStore {
  readonly commits = new CommitSignal();
  private readonly rows = new Map<string, Row>();
  /** The unpublished rows, oldest first: what claims and figures look at. */
  private readonly pendingRows = new Map<string, Row>();
  private readonly sequences = new Map<string, number>();
  private readonly leases = new Map<string, Lease>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Adds prepared events (from `bus.prepare`) as one atomic write, then wakes relays. */
  add(events: readonly PreparedEvent[]): void {
    for (const { envelope, outgoing } of events) {
      const key = outgoing.message.key ?? envelope.id;
      const sequence = (this.sequences.get(key) ?? 0) + 1;
      this.sequences.set(key, sequence);
      const record: OutboxRecord = {
        id: envelope.id,
        key,
        sequence,
        ...(outgoing.message.key === undefined ? { unkeyed: true } : {}),
        channel: outgoing.channel,
        type: outgoing.type,
        headers: outgoing.message.headers,
        body: outgoing.message.body,
        attempts: 0,
        createdAt: new Date(this.now()),
      };
      const row: Row = {
        record,
        lastError: '',
        retryAt: undefined,
        dead: false,
        publishedAt: undefined,
      };
      this.rows.set(record.id, row);
      this.pendingRows.set(record.id, row);
    }
    this.commits.emit();
  }

  async claim({ limit, leaseMs }: ClaimOptions): Promise<OutboxClaim | undefined> {
    const now = this.now();
    const token = randomUUID();
    const pending = [...this.pendingRows.values()].filter((row) => row.publishedAt === undefined);
    const keys = new Set<string>();
    for (const row of pending) {
      if (keys.size >= limit) break;
      const lease = this.leases.get(row.record.key);
      if (lease === undefined || lease.until <= now) keys.add(row.record.key);
    }
    if (keys.size === 0) return undefined;
    for (const key of keys) this.leases.set(key, { token, until: now + leaseMs });
    const records = pending
      .filter((row) => keys.has(row.record.key))
      .map((row) => row.record)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.sequence - b.sequence))
      .slice(0, limit);
    return { token, records };
  }

  async settle(claim: OutboxClaim, request: SettleRequest): Promise<SettleResult> {
    const owned = (key: string) => this.leases.get(key)?.token === claim.token;
    let published = 0;
    let fenced = 0;
    for (const record of request.published) {
      const row = this.rows.get(record.id);
      if (!owned(record.key)) fenced++;
      else if (row && row.publishedAt === undefined) {
        row.publishedAt = this.now();
        this.pendingRows.delete(record.id);
        row.retryAt = undefined;
        published++;
      }
    }
    for (const failure of request.failed) {
      const row = this.rows.get(failure.record.id);
      if (!owned(failure.record.key) || row === undefined) {
        fenced++;
        continue;
      }
      row.record = { ...row.record, attempts: row.record.attempts + 1 };
      row.lastError = failure.error;
      row.retryAt = failure.retryAt?.getTime();
      row.dead = failure.retryAt === undefined;
      this.leases.set(failure.record.key, {
        token: randomUUID(),
        until: failure.retryAt?.getTime() ?? Number.POSITIVE_INFINITY,
      });
    }
    for (const [key, lease] of this.leases)
      if (lease.token === claim.token) this.leases.delete(key);
    return { published, fenced };
  }

  async stats(): Promise<OutboxStats> {
    const pending = [...this.pendingRows.values()].filter((row) => row.publishedAt === undefined);
    const oldest = Math.min(...pending.map((row) => row.record.createdAt.getTime()));
    return {
      pending: pending.length,
      dead: pending.filter((row) => row.dead).length,
      oldestPendingAgeMs: pending.length === 0 ? 0 : Math.max(0, this.now() - oldest),
    };
  }

  async listStuck(limit: number): Promise<StuckRecord[]> {
    const now = this.now();
    return [...this.pendingRows.values()]
      .filter((row) => row.publishedAt === undefined && (row.dead || (row.retryAt ?? 0) > now))
      .slice(0, limit)
      .map((row) => ({
        record: row.record,
        lastError: row.lastError,
        retryAt: row.dead || row.retryAt === undefined ? undefined : new Date(row.retryAt),
      }));
  }

  async replay(ids: readonly string[]): Promise<number> {
    let revived = 0;
    for (const id of ids) {
      const row = this.rows.get(id);
      if (!row?.dead || row.publishedAt !== undefined) continue;
      row.dead = false;
      row.retryAt = undefined;
      row.record = { ...row.record, attempts: 0 };
      revived++;
      const stillDead = [...this.pendingRows.values()].some(
        (other) =>
          other.record.key === row.record.key && other.dead && other.publishedAt === undefined,
      );
      if (!stillDead && this.leases.get(row.record.key)?.until === Number.POSITIVE_INFINITY) {
        this.leases.delete(row.record.key);
      }
    }
    return revived;
  }

  async prune(olderThanMs: number, limit: number): Promise<number> {
    const cutoff = this.now() - olderThanMs;
    let deleted = 0;
    for (const [id, row] of this.rows) {
      if (deleted >= limit) break;
      if (row.publishedAt !== undefined && row.publishedAt <= cutoff) {
        this.rows.delete(id);
        deleted++;
      }
    }
    return deleted;
  }
}
