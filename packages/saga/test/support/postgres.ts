import { randomBytes } from 'node:crypto';
import { createBus, InMemoryTransport } from '@edakit/core';
import pg from 'pg';
import { afterAll } from 'vitest';
import {
  PostgresSagaStore,
  type PostgresSagaStoreOptions,
} from '../../src/postgres/postgres-saga-store';
import type { StoreBackend } from './durable-store-cases';

export const DATABASE_URL =
  process.env.EDAKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/edakit_test';

/** A fresh, lower-case table name, so runs never see each other's rows. */
export const uniqueTable = (prefix = 'saga'): string =>
  `${prefix}_${randomBytes(5).toString('hex')}`;

export function createPool(max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString: DATABASE_URL,
    max,
    idleTimeoutMillis: 1000,
    application_name: 'edakit-saga-test',
  });
  // An idle client killed by the server must not crash the test process.
  pool.on('error', () => undefined);
  return pool;
}

/** Prepares the outbox rows (the store only inserts events prepared by the runtime's bus). */
export const preparer = createBus({
  transport: new InMemoryTransport(),
  source: '/saga-store-test',
});

export async function dropTables(pool: pg.Pool, table: string): Promise<void> {
  const outbox = `${table}_outbox`;
  await pool.query(
    `DROP TABLE IF EXISTS ${table}, ${outbox}, ${outbox}_sequences, ${outbox}_leases`,
  );
}

type ExtraOptions = Partial<Pick<PostgresSagaStoreOptions, 'tombstoneTtlMs'>> & {
  /** Size of the store's pool. Default 10. */
  readonly connections?: number;
};

/**
 * PostgreSQL stores of one test file: each `fresh()` is a new table (and
 * outbox `<table>_outbox`); each `open()` of it a new pool and store over the
 * same tables (a replica, or the process after a restart). Pools are ended and
 * tables dropped after the file.
 */
export function usePostgresSagaStores(): StoreBackend<PostgresSagaStore> & {
  pool(connections?: number): pg.Pool;
  table(): string;
  openAt(table: string, options?: ExtraOptions): Promise<PostgresSagaStore>;
} {
  const pools: pg.Pool[] = [];
  const tables: string[] = [];
  const release = async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end().catch(() => undefined)));
  };
  afterAll(async () => {
    await release();
    const admin = createPool(1);
    for (const table of tables) await dropTables(admin, table);
    await admin.end();
  });
  const pool = (connections?: number) => {
    const created = createPool(connections);
    pools.push(created);
    return created;
  };
  const table = () => {
    const made = uniqueTable();
    tables.push(made);
    return made;
  };
  const openAt = async (at: string, { connections, ...options }: ExtraOptions = {}) => {
    const store = new PostgresSagaStore({
      pool: pool(connections),
      bus: preparer,
      table: at,
      outboxTable: `${at}_outbox`,
      ...options,
    });
    await store.migrate();
    return store;
  };
  return {
    name: 'PostgreSQL',
    release,
    pool,
    table,
    openAt,
    async fresh() {
      const at = table();
      return { open: (options) => openAt(at, options) };
    },
  };
}
