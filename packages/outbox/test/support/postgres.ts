import { randomBytes } from 'node:crypto';
import { createBus, defineEvent, InMemoryTransport } from '@edakit/core';
import pg from 'pg';
import { z } from 'zod';
import { createPostgresOutbox, type PostgresOutbox } from '../../src';

export const DATABASE_URL =
  process.env.EDAKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/edakit_test';

/** A fresh, lower-case table name per test, so runs never see each other's rows. */
export const uniqueTable = (prefix = 'obx'): string =>
  `${prefix}_${randomBytes(5).toString('hex')}`;

export function createPool(max = 8, applicationName = 'edakit-outbox-test'): pg.Pool {
  const pool = new pg.Pool({
    connectionString: DATABASE_URL,
    max,
    application_name: applicationName,
  });
  // An idle client killed by the server must not crash the test process.
  pool.on('error', () => undefined);
  return pool;
}

/** Drops an outbox's (or inbox's) tables. */
export async function dropTables(pool: pg.Pool, table: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_sequences, ${table}_leases`);
}

export const OrderPlaced = defineEvent({
  type: 'order.placed',
  description: 'An order was placed (outbox tests).',
  version: 1,
  schema: z.object({ orderId: z.string(), n: z.number().int(), note: z.string().optional() }),
  partitionKey: (data) => data.orderId,
});

export const AuditNoted = defineEvent({
  type: 'audit.noted',
  description: 'A note with no partition key (outbox tests).',
  version: 1,
  schema: z.object({ text: z.string() }),
});

export interface OutboxFixture {
  readonly pool: pg.Pool;
  readonly table: string;
  readonly outbox: PostgresOutbox;
  readonly transport: InMemoryTransport;
  readonly bus: ReturnType<typeof createBus>;
  cleanup(): Promise<void>;
}

/** A migrated outbox on a fresh table; events are prepared by a bus over an in-memory transport. */
export async function outboxFixture(
  options: { notify?: boolean; table?: string; keepPublished?: boolean } = {},
): Promise<OutboxFixture> {
  const pool = createPool();
  const table = options.table ?? uniqueTable();
  const transport = new InMemoryTransport();
  const bus = createBus({ transport, source: '/outbox-test' });
  const outbox = createPostgresOutbox({
    pool,
    bus,
    table,
    notify: options.notify ?? false,
    keepPublished: options.keepPublished ?? false,
  });
  await outbox.migrate();
  return {
    pool,
    table,
    outbox,
    transport,
    bus,
    async cleanup() {
      await dropTables(pool, table).catch(() => undefined);
      await pool.end();
      await transport.close();
    },
  };
}
