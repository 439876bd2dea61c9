import { bareName, type OutboxTables, outboxTables } from './outbox-tables';

/** Anything that runs SQL: a pg Pool, Client or PoolClient. */
export interface Queryable {
  query<Row extends object = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Row[]; rowCount: number | null }>;
}

/**
 * The outbox's tables as plain SQL, for teams that run their own migrations.
 * Idempotent (`IF NOT EXISTS`).
 */
export function outboxMigrationSql(table?: string): string {
  return migrationFor(outboxTables(table));
}

/** Creates the outbox tables if they do not exist, in one transaction. */
export async function migrate(client: Queryable, options: { table?: string } = {}): Promise<void> {
  // Two services migrating at once must not race on CREATE: a transaction-scoped
  // advisory lock serialises them and is released at commit (safe with PgBouncer).
  const sql = outboxMigrationSql(options.table);
  await client.query(
    `BEGIN; SELECT pg_advisory_xact_lock(hashtext('edakit.outbox.migrate')); ${sql} COMMIT;`,
  );
}

function migrationFor(t: OutboxTables): string {
  const base = bareName(t.outbox);
  return `
CREATE TABLE IF NOT EXISTS ${t.outbox} (
  id            uuid        PRIMARY KEY,
  key           text        NOT NULL,
  sequence      bigint      NOT NULL,
  unkeyed       boolean     NOT NULL DEFAULT false,
  channel       text        NOT NULL,
  type          text        NOT NULL,
  headers       jsonb       NOT NULL,
  body          bytea       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  attempts      integer     NOT NULL DEFAULT 0,
  last_error    text,
  retry_at      timestamptz,
  dead_at       timestamptz,
  published_at  timestamptz,
  UNIQUE (key, sequence)
);
CREATE INDEX IF NOT EXISTS ${base}_pending ON ${t.outbox} (id) WHERE published_at IS NULL;
CREATE INDEX IF NOT EXISTS ${base}_pending_key ON ${t.outbox} (key, sequence) WHERE published_at IS NULL;
CREATE INDEX IF NOT EXISTS ${base}_published ON ${t.outbox} (published_at) WHERE published_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS ${t.sequences} (
  key           text        PRIMARY KEY,
  last_sequence bigint      NOT NULL
);
CREATE TABLE IF NOT EXISTS ${t.leases} (
  key           text        PRIMARY KEY,
  token         uuid        NOT NULL,
  until         timestamptz NOT NULL
);
`;
}
