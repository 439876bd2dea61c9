import { InvalidOptionsError } from '@edakit/core';
import type { Queryable } from '@edakit/outbox';

export const DEFAULT_SAGA_TABLE = 'edakit_saga_instances';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,50}(\.[a-z_][a-z0-9_]{0,50})?$/;

/** Checks a table name so it can be spliced into SQL (identifiers cannot be bound). */
export function sagaTableName(table: string = DEFAULT_SAGA_TABLE): string {
  if (typeof table !== 'string' || !IDENTIFIER.test(table)) {
    throw new InvalidOptionsError(
      `saga table "${String(table)}" must be a lower-case SQL identifier, optionally schema-qualified (e.g. "app.edakit_saga_instances")`,
      { option: 'table', value: table },
    );
  }
  return table;
}

/**
 * The saga instances table as plain SQL, for teams that run their own
 * migrations. Idempotent (`IF NOT EXISTS`). Times are the saga runtime's
 * clock, stored as timestamptz.
 *
 * `due_at` is when the instance's timer may fire next: its due time, pushed
 * forward by each claim (a lease), cleared when the instance has no timer.
 */
export function sagaMigrationSql(table?: string): string {
  const t = sagaTableName(table);
  const base = t.slice(t.lastIndexOf('.') + 1);
  return `
CREATE TABLE IF NOT EXISTS ${t} (
  saga               text        NOT NULL,
  id                 text        NOT NULL,
  definition_version integer     NOT NULL,
  version            integer     NOT NULL,
  status             text        NOT NULL,
  step               integer     NOT NULL,
  attempt            integer     NOT NULL,
  data               jsonb       NOT NULL,
  completed_steps    text[]      NOT NULL,
  timeout_token      text,
  timeout_due_at     timestamptz,
  timeout_kind       text,
  due_at             timestamptz,
  processed          text[]      NOT NULL,
  failure            jsonb,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  traceparent        text,
  tracestate         text,
  PRIMARY KEY (saga, id)
);
-- Columns added since the table's first version: a table made before gets them here.
-- Looked up first: ALTER TABLE locks the table even when the column exists.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '${t}'::regclass
                 AND attname = 'traceparent' AND NOT attisdropped) THEN
    ALTER TABLE ${t} ADD COLUMN traceparent text;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '${t}'::regclass
                 AND attname = 'tracestate' AND NOT attisdropped) THEN
    ALTER TABLE ${t} ADD COLUMN tracestate text;
  END IF;
END $$;
CREATE INDEX IF NOT EXISTS ${base}_due_at ON ${t} (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS ${base}_status ON ${t} (saga, status, id);
CREATE INDEX IF NOT EXISTS ${base}_finished ON ${t} (updated_at) WHERE status <> 'running';
`;
}

/** Creates the saga table if it does not exist, serialised with other migrating services. */
export async function migrateSagaTable(client: Queryable, table?: string): Promise<void> {
  const sql = sagaMigrationSql(table);
  await client.query(
    `BEGIN; SELECT pg_advisory_xact_lock(hashtext('edakit.saga.migrate')); ${sql} COMMIT;`,
  );
}
