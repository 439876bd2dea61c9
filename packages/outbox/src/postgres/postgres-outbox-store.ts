import { randomUUID } from 'node:crypto';
import type { OutboxRecord, StuckRecord } from '../outbox-record';
import type {
  ClaimOptions,
  OutboxClaim,
  OutboxStats,
  OutboxStore,
  SettleRequest,
  SettleResult,
} from '../outbox-store';
import type { Queryable } from './migration';
import type { OutboxTables } from './outbox-tables';
import { inTransaction } from './transaction';

/** A pool that lends clients for short transactions (pg's `Pool`). */
export interface PoolLike extends Queryable {
  connect(): Promise<PooledClient>;
}

export interface PooledClient extends Queryable {
  release(error?: Error | boolean): void;
}

interface RowShape {
  id: string;
  key: string;
  sequence: string;
  unkeyed: boolean;
  channel: string;
  type: string;
  headers: Record<string, string>;
  body: Buffer;
  attempts: number;
  created_at: Date;
  last_error: string | null;
  retry_at: Date | null;
  dead_at: Date | null;
}

const COLUMNS =
  'id, key, sequence, unkeyed, channel, type, headers, body, attempts, created_at, last_error, retry_at, dead_at';

/**
 * The relay's side of the PostgreSQL outbox. Every method is one short
 * transaction; none is open while the relay talks to the broker.
 *
 * Keys, not rows, are leased: a relay that holds a key publishes that key's
 * whole run in order, and no other relay touches the key until the lease is
 * settled or expires. A failed row keeps its key leased until its retry time
 * (or forever, once dead), which is how it blocks only its own key.
 */
export class PostgresOutboxStore implements OutboxStore {
  constructor(
    private readonly pool: PoolLike,
    private readonly tables: OutboxTables,
    /** Keep published rows (marked `published_at`) for `prune`; else delete them when settled. */
    private readonly keepPublished = false,
  ) {}

  async claim({ limit, leaseMs }: ClaimOptions): Promise<OutboxClaim | undefined> {
    const { outbox, leases } = this.tables;
    const token = randomUUID();
    return this.transaction(async (client) => {
      // The oldest pending rows whose key nobody holds name the candidate keys.
      // SKIP LOCKED passes over rows another relay is claiming this instant;
      // ON CONFLICT ... WHERE takes over only expired leases, and a relay that
      // still meets another on one key waits on that lease row, then sees the
      // fresh lease and leaves the key alone.
      const claimed = await client.query<{ key: string }>(
        `WITH candidates AS (
           SELECT DISTINCT key FROM (
             SELECT o.key FROM ${outbox} o
             WHERE o.published_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM ${leases} l WHERE l.key = o.key AND l.until > now())
             ORDER BY o.id
             LIMIT $1
             FOR UPDATE OF o SKIP LOCKED
           ) oldest
         )
         INSERT INTO ${leases} (key, token, until)
         SELECT key, $2, now() + make_interval(secs => $3::double precision / 1000) FROM candidates
         ON CONFLICT (key) DO UPDATE SET token = EXCLUDED.token, until = EXCLUDED.until
         WHERE ${leases}.until <= now()
         RETURNING key`,
        [limit, token, leaseMs],
      );
      if (claimed.rows.length === 0) return undefined;
      // An equal share of the limit per leased key, each from its oldest
      // unpublished row: every key the claim holds gets rows to publish.
      const keys = claimed.rows.map((row) => row.key);
      const share = Math.max(1, Math.floor(limit / keys.length));
      const rows = await client.query<RowShape>(
        `SELECT r.* FROM unnest($1::text[]) AS k(key)
         CROSS JOIN LATERAL (
           SELECT ${COLUMNS} FROM ${outbox} o
           WHERE o.key = k.key AND o.published_at IS NULL
           ORDER BY o.sequence
           LIMIT $2
         ) r
         ORDER BY r.key, r.sequence`,
        [keys, share],
      );
      // A key whose rows were all published meanwhile must not stay held.
      const held = new Set(rows.rows.map((row) => row.key));
      const idle = keys.filter((key) => !held.has(key));
      if (idle.length > 0) {
        await client.query(`DELETE FROM ${leases} WHERE token = $1 AND key = ANY($2::text[])`, [
          token,
          idle,
        ]);
      }
      if (rows.rows.length === 0) return undefined;
      return { token, records: rows.rows.map(toRecord) };
    });
  }

  async settle(claim: OutboxClaim, request: SettleRequest): Promise<SettleResult> {
    const { outbox, leases } = this.tables;
    return this.transaction(async (client) => {
      // Locking our leases first fences a late settle: a key another relay took
      // over carries another token and is simply not in this set.
      const owned = await client.query<{ key: string }>(
        `SELECT key FROM ${leases} WHERE token = $1 FOR UPDATE`,
        [claim.token],
      );
      const ownedKeys = new Set(owned.rows.map((row) => row.key));
      const published = request.published.filter((record) => ownedKeys.has(record.key));
      const failed = request.failed.filter((failure) => ownedKeys.has(failure.record.key));
      let marked = 0;
      if (published.length > 0) {
        const result = await client.query(
          // Deleting is the cheap default: no index entries to add, a table that
          // stays small. Kept rows are an audit trail until the relay prunes them.
          this.keepPublished
            ? `UPDATE ${outbox} SET published_at = now(), retry_at = NULL
               WHERE id = ANY($1::uuid[]) AND published_at IS NULL`
            : `DELETE FROM ${outbox} WHERE id = ANY($1::uuid[]) AND published_at IS NULL`,
          [published.map((record) => record.id)],
        );
        marked = result.rowCount ?? 0;
      }
      if (failed.length > 0) {
        const ids = failed.map((failure) => failure.record.id);
        const errors = failed.map((failure) => failure.error.slice(0, 2000));
        const retryAt = failed.map((failure) => failure.retryAt?.toISOString() ?? null);
        await client.query(
          `UPDATE ${outbox} o SET attempts = o.attempts + 1, last_error = f.error,
             retry_at = f.retry_at, dead_at = CASE WHEN f.retry_at IS NULL THEN now() END
           FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS f(id, error, retry_at)
           WHERE o.id = f.id`,
          [ids, errors, retryAt],
        );
        // The key stays held until the retry is due; a dead row holds it for good
        // (until replay). A fresh token means no relay owns that hold.
        await client.query(
          `UPDATE ${leases} l SET token = gen_random_uuid(),
             until = COALESCE(f.retry_at, 'infinity'::timestamptz)
           FROM unnest($1::text[], $2::timestamptz[]) AS f(key, retry_at)
           WHERE l.key = f.key AND l.token = $3`,
          [failed.map((failure) => failure.record.key), retryAt, claim.token],
        );
      }
      await client.query(`DELETE FROM ${leases} WHERE token = $1`, [claim.token]);
      const settled = new Set([...published, ...failed.map((failure) => failure.record)]);
      return { published: marked, fenced: countFenced(request, settled) };
    });
  }

  async stats(): Promise<OutboxStats> {
    const result = await this.pool.query<{ pending: string; dead: string; age_ms: number | null }>(
      `SELECT count(*) AS pending, count(dead_at) AS dead,
         (extract(epoch FROM clock_timestamp() - min(created_at)) * 1000)::float8 AS age_ms
       FROM ${this.tables.outbox} WHERE published_at IS NULL`,
    );
    const row = result.rows[0];
    return {
      pending: Number(row?.pending ?? 0),
      dead: Number(row?.dead ?? 0),
      oldestPendingAgeMs: Math.max(0, Math.round(row?.age_ms ?? 0)),
    };
  }

  async listStuck(limit: number): Promise<StuckRecord[]> {
    const result = await this.pool.query<RowShape>(
      `SELECT ${COLUMNS} FROM ${this.tables.outbox}
       WHERE published_at IS NULL AND (dead_at IS NOT NULL OR retry_at > now())
       ORDER BY created_at LIMIT $1`,
      [limit],
    );
    return result.rows.map((row) => ({
      record: toRecord(row),
      lastError: row.last_error ?? '',
      retryAt: row.dead_at === null ? (row.retry_at ?? undefined) : undefined,
    }));
  }

  async replay(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const { outbox, leases } = this.tables;
    return this.transaction(async (client) => {
      const revived = await client.query<{ key: string }>(
        `UPDATE ${outbox} SET dead_at = NULL, retry_at = NULL, attempts = 0
         WHERE id = ANY($1::uuid[]) AND dead_at IS NOT NULL AND published_at IS NULL
         RETURNING key`,
        [ids],
      );
      const keys = [...new Set(revived.rows.map((row) => row.key))];
      // Unblock only keys with no other dead row left.
      await client.query(
        `DELETE FROM ${leases} l WHERE l.key = ANY($1::text[]) AND l.until = 'infinity'
           AND NOT EXISTS (SELECT 1 FROM ${outbox} o
                           WHERE o.key = l.key AND o.dead_at IS NOT NULL AND o.published_at IS NULL)`,
        [keys],
      );
      return revived.rows.length;
    });
  }

  async prune(olderThanMs: number, limit: number): Promise<number> {
    const { outbox } = this.tables;
    const result = await this.pool.query(
      `DELETE FROM ${outbox} WHERE id IN (
         SELECT id FROM ${outbox}
         WHERE published_at < now() - make_interval(secs => $1::double precision / 1000)
         LIMIT $2)`,
      [olderThanMs, limit],
    );
    return result.rowCount ?? 0;
  }

  private transaction<T>(work: (client: PooledClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }
}

function countFenced(request: SettleRequest, settled: ReadonlySet<OutboxRecord>): number {
  const all = request.published.length + request.failed.length;
  return all - settled.size;
}

function toRecord(row: RowShape): OutboxRecord {
  return {
    id: row.id,
    key: row.key,
    sequence: Number(row.sequence),
    channel: row.channel,
    type: row.type,
    headers: row.headers,
    body: row.body,
    attempts: row.attempts,
    createdAt: row.created_at,
    ...(row.unkeyed ? { unkeyed: true } : {}),
  };
}
