import { ErrorCodes, InvalidOptionsError } from '@edakit/core';
import { createPostgresOutbox, type PostgresOutbox } from '@edakit/outbox';
import { describe, expect, it } from 'vitest';
import { PostgresSagaStore } from '../../src/postgres/postgres-saga-store';
import { sagaMigrationSql } from '../../src/postgres/saga-table';
import { durableStoreCases } from '../support/durable-store-cases';
import { preparer, usePostgresSagaStores } from '../support/postgres';
import { Ping, T0, tickInstance } from '../support/tick-saga';

const postgres = usePostgresSagaStores();

durableStoreCases(postgres);

const instance = tickInstance;

const ping = (counter: string, step: number) => preparer.prepare(Ping, { counter, step });

describe('PostgresSagaStore specifics', () => {
  it('saga-18: the instance and its commands commit in one transaction: a failing outbox insert rolls the transition back', async () => {
    const table = postgres.table();
    const pool = postgres.pool();
    const real = createPostgresOutbox({ pool, bus: preparer, table: `${table}_outbox` });
    let failing = false;
    const outbox: PostgresOutbox = {
      ...real,
      async addPrepared(client, events) {
        await real.addPrepared(client, events);
        if (failing) throw new Error('the outbox insert failed');
      },
    };
    const store = new PostgresSagaStore({ pool, outbox, table });
    await store.migrate();
    const first = ping('o-1', 1);
    expect(await store.create(instance('o-1'), [first])).toBe(true);
    failing = true;
    const update = store.update(
      instance('o-1', {
        version: 2,
        step: 1,
        processed: ['event-1'],
        timeout: { token: 't-2', dueAt: T0 + 5, kind: 'reply' },
      }),
      [ping('o-1', 2)],
    );
    await expect(update).rejects.toThrow('the outbox insert failed');
    expect(await store.load('tick', 'o-1')).toMatchObject({ version: 1, step: 0, processed: [] });
    expect(await store.claimDueTimeouts(T0 + 10, 10, 1000)).toEqual([]);
    const rows = await pool.query<{ id: string }>(`SELECT id FROM ${table}_outbox`);
    expect(rows.rows.map((row) => row.id)).toEqual([first.envelope.id]);
    // A failed create leaves no instance either.
    await expect(store.create(instance('o-2'), [ping('o-2', 1)])).rejects.toThrow();
    expect(await store.load('tick', 'o-2')).toBeUndefined();
  });

  it('round-trips every field, times exact to the millisecond', async () => {
    const store = await postgres.openAt(postgres.table());
    const stored = instance('o-1', {
      definitionVersion: 3,
      status: 'compensated',
      step: 2,
      attempt: 4,
      data: { nested: { list: [1, 'two', null], flag: true }, text: 'é ✓' },
      completedSteps: ['a', 'b'],
      timeout: { token: 'tok', dueAt: T0 + 123_457, kind: 'retry' },
      processed: ['e-1', 'e-2'],
      failure: { step: 'c', reason: 'timed-out' },
      createdAt: T0 + 1,
      updatedAt: T0 + 999,
    });
    await store.create(stored, []);
    expect(await store.load('tick', 'o-1')).toEqual(stored);
  });

  it('claims skip rows another transaction holds (FOR UPDATE SKIP LOCKED) instead of waiting for them', async () => {
    const table = postgres.table();
    const store = await postgres.openAt(table);
    for (const id of ['a', 'b']) {
      await store.create(
        instance(id, { timeout: { token: `t-${id}`, dueAt: T0, kind: 'reply' } }),
        [],
      );
    }
    const holder = await postgres.pool().connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM ${table} WHERE id = 'a' FOR UPDATE`);
      const claimed = await store.claimDueTimeouts(T0, 10, 1000);
      expect(claimed).toEqual([{ saga: 'tick', id: 'b', token: 't-b' }]);
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    expect(await store.claimDueTimeouts(T0, 10, 1000)).toEqual([
      { saga: 'tick', id: 'a', token: 't-a' },
    ]);
  });

  it('saga-12: finished instances stay as tombstones until pruneTombstones deletes those older than tombstoneTtlMs', async () => {
    const table = postgres.table();
    const store = await postgres.openAt(table, { tombstoneTtlMs: 60_000 });
    await store.create(instance('running'), []);
    for (const [id, status, at] of [
      ['old-1', 'completed', T0],
      ['old-2', 'compensated', T0 + 10],
      ['old-3', 'completed', T0 + 20],
      ['recent', 'completed', T0 + 100_000],
    ] as const) {
      await store.create(instance(id), []);
      await store.update(instance(id, { version: 2, status, updatedAt: at }), []);
    }
    // A tombstone keeps the id taken.
    expect(await store.create(instance('old-1'), [])).toBe(false);
    const now = T0 + 100_000;
    expect(await store.pruneTombstones(now, 2)).toBe(2);
    expect(await store.pruneTombstones(now, 2)).toBe(1);
    expect(await store.pruneTombstones(now, 2)).toBe(0);
    const left = (await store.find({ saga: 'tick' })).map((saga) => saga.id);
    expect(left).toEqual(['recent', 'running']);
    expect(await store.create(instance('old-1'), [])).toBe(true);
  });

  it('migrate is idempotent and creates the due_at index; sagaMigrationSql is the same DDL for own migrations', async () => {
    const table = postgres.table();
    const store = await postgres.openAt(table);
    await store.migrate();
    const pool = postgres.pool();
    const indexes = await pool.query<{ indexname: string }>(
      'SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname',
      [table],
    );
    expect(indexes.rows.map((row) => row.indexname)).toEqual([
      `${table}_due_at`,
      `${table}_finished`,
      `${table}_pkey`,
      `${table}_status`,
    ]);
    await pool.query(sagaMigrationSql(table));
    expect(sagaMigrationSql(table)).toContain(
      `CREATE INDEX IF NOT EXISTS ${table}_due_at ON ${table} (due_at)`,
    );
    const plan = await pool.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT saga, id FROM ${table} WHERE due_at <= now() ORDER BY due_at LIMIT 10`,
    );
    expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toContain(`${table}_due_at`);
  });

  it('migrate adds the trace context columns to a table made before them, keeping its rows', async () => {
    const table = postgres.table();
    const pool = postgres.pool();
    const store = await postgres.openAt(table);
    await store.migrate();
    expect(await store.create(instance('old-1'), [])).toBe(true);
    await pool.query(`ALTER TABLE ${table} DROP COLUMN traceparent, DROP COLUMN tracestate`);
    await store.migrate();
    const columns = await pool.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns
       WHERE table_name = $1 AND column_name LIKE 'trace%' ORDER BY column_name`,
      [table],
    );
    expect(columns.rows.map((row) => row.column_name)).toEqual(['traceparent', 'tracestate']);
    // Once there, a migration does not wait for readers (ALTER TABLE would, even for a column
    // that exists): it runs while a transaction that read the table is still open.
    const reader = await pool.connect();
    const migrator = await pool.connect();
    try {
      await reader.query('BEGIN');
      await reader.query(`SELECT count(*) FROM ${table}`);
      await migrator.query('SET lock_timeout = 2000');
      await expect(migrator.query(sagaMigrationSql(table))).resolves.toBeDefined();
    } finally {
      await reader.query('ROLLBACK');
      reader.release();
      await migrator.query('RESET lock_timeout');
      migrator.release();
    }
    expect(await store.load('tick', 'old-1')).toEqual(instance('old-1'));
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(await store.update(instance('old-1', { version: 2, traceparent }), [])).toBe(true);
    expect(await store.load('tick', 'old-1')).toEqual(
      instance('old-1', { version: 2, traceparent }),
    );
  });

  it('refuses options it cannot use (typed EDAKIT_INVALID_OPTIONS)', () => {
    const pool = postgres.pool();
    expect(() => new PostgresSagaStore({ pool, bus: preparer, table: 'Bad Name' })).toThrow(
      InvalidOptionsError,
    );
    expect(
      () =>
        new PostgresSagaStore({ pool } as unknown as ConstructorParameters<
          typeof PostgresSagaStore
        >[0]),
    ).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_OPTIONS }));
    expect(() => new PostgresSagaStore({ pool, bus: preparer, tombstoneTtlMs: -1 })).toThrow(
      InvalidOptionsError,
    );
  });
});
