import { EdakitError, ErrorCodes } from '@edakit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresOutbox, migrate, outboxMigrationSql, outboxTables } from '../../src';
import { AuditNoted, OrderPlaced, type OutboxFixture, outboxFixture } from '../support/postgres';

let fixture: OutboxFixture | undefined;
afterEach(async () => {
  await fixture?.cleanup();
  fixture = undefined;
});

async function rows(f: OutboxFixture) {
  const result = await f.pool.query<{
    id: string;
    key: string;
    sequence: string;
    type: string;
    unkeyed: boolean;
  }>(`SELECT id, key, sequence, type, unkeyed FROM ${f.table} ORDER BY key, sequence`);
  return result.rows.map((row) => ({ ...row, sequence: Number(row.sequence) }));
}

describe('PostgreSQL outbox writes', () => {
  it('commits the event with the caller transaction and numbers each key', async () => {
    fixture = await outboxFixture();
    const f = fixture;
    const envelopes = await f.outbox.transaction(async (client) => [
      await f.outbox.add(client, OrderPlaced, { orderId: 'o-1', n: 1 }),
      await f.outbox.add(client, OrderPlaced, { orderId: 'o-1', n: 2 }),
      await f.outbox.add(client, OrderPlaced, { orderId: 'o-2', n: 1 }),
      await f.outbox.add(client, AuditNoted, { text: 'no key' }),
    ]);
    const stored = await rows(f);
    expect(stored).toHaveLength(4);
    expect(stored.filter((row) => row.key === 'o-1').map((row) => [row.id, row.sequence])).toEqual([
      [envelopes[0]?.id, 1],
      [envelopes[1]?.id, 2],
    ]);
    expect(stored.find((row) => row.key === 'o-2')?.sequence).toBe(1);
    // An event without a partition key is its own key and goes out unkeyed.
    expect(stored.find((row) => row.type === 'audit.noted')).toMatchObject({
      key: envelopes[3]?.id,
      unkeyed: true,
      sequence: 1,
    });
    // ...and leaves no counter row behind (one per event would grow forever).
    const counters = await f.pool.query(`SELECT key FROM ${f.table}_sequences ORDER BY key`);
    expect(counters.rows.map((row) => row.key)).toEqual(['o-1', 'o-2']);
  });

  it('leaves no row when the caller rolls back', async () => {
    fixture = await outboxFixture();
    const f = fixture;
    await expect(
      f.outbox.transaction(async (client) => {
        await f.outbox.add(client, OrderPlaced, { orderId: 'o-1', n: 1 });
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    const client = await f.pool.connect();
    try {
      await client.query('BEGIN');
      await f.outbox.add(client, OrderPlaced, { orderId: 'o-2', n: 1 });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await rows(f)).toEqual([]);
    // The counter rolled back too: the next event of o-1 is still number 1.
    await f.outbox.transaction((c) => f.outbox.add(c, OrderPlaced, { orderId: 'o-1', n: 1 }));
    expect((await rows(f)).map((row) => row.sequence)).toEqual([1]);
  });

  it('rejects an invalid event with a typed error and writes nothing', async () => {
    fixture = await outboxFixture();
    const f = fixture;
    const error = await f.outbox
      .transaction((client) =>
        f.outbox.add(client, OrderPlaced, { orderId: 'o-1', n: 1.5 } as never),
      )
      .catch((caught: unknown) => caught);
    expect(EdakitError.isInstance(error)).toBe(true);
    expect((error as EdakitError).code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(await rows(f)).toEqual([]);
  });

  it('takes the aggregate version as the sequence and refuses one that does not grow', async () => {
    fixture = await outboxFixture();
    const f = fixture;
    await f.outbox.transaction((c) =>
      f.outbox.add(c, OrderPlaced, { orderId: 'o-1', n: 1 }, { sequence: 7 }),
    );
    const error = await f.outbox
      .transaction((c) => f.outbox.add(c, OrderPlaced, { orderId: 'o-1', n: 2 }, { sequence: 7 }))
      .catch((caught: unknown) => caught);
    expect((error as EdakitError).code).toBe(ErrorCodes.INVALID_STATE);
    expect((error as EdakitError).context).toMatchObject({
      eventType: 'order.placed',
      key: 'o-1',
      sequence: 7,
    });
    await f.outbox.transaction((c) =>
      f.outbox.add(c, OrderPlaced, { orderId: 'o-1', n: 3 }, { sequence: 9 }),
    );
    // Numbering continues after the highest explicit version.
    await f.outbox.transaction((c) => f.outbox.add(c, OrderPlaced, { orderId: 'o-1', n: 4 }));
    expect((await rows(f)).map((row) => row.sequence)).toEqual([7, 9, 10]);
  });

  it('makes a second writer of the same key wait for the first to commit', async () => {
    fixture = await outboxFixture();
    const f = fixture;
    const first = await f.pool.connect();
    const second = await f.pool.connect();
    try {
      await first.query('BEGIN');
      await second.query('BEGIN');
      await f.outbox.add(first, OrderPlaced, { orderId: 'o-1', n: 1 });
      let secondDone = false;
      const secondAdd = f.outbox.add(second, OrderPlaced, { orderId: 'o-1', n: 2 }).then(() => {
        secondDone = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(secondDone).toBe(false);
      await first.query('COMMIT');
      await secondAdd;
      await second.query('COMMIT');
    } finally {
      first.release();
      second.release();
    }
    const stored = await f.pool.query<{ sequence: string; n: number }>(
      `SELECT sequence, (convert_from(body, 'UTF8')::jsonb ->> 'n')::int AS n FROM ${f.table} ORDER BY sequence`,
    );
    expect(stored.rows.map((row) => [Number(row.sequence), row.n])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('migrates idempotently, concurrently, and refuses a table name it cannot quote', async () => {
    fixture = await outboxFixture();
    const f = fixture;
    await Promise.all([
      migrate(f.pool, { table: f.table }),
      migrate(f.pool, { table: f.table }),
      f.outbox.migrate(),
    ]);
    expect(outboxMigrationSql(f.table)).toContain(`CREATE TABLE IF NOT EXISTS ${f.table} (`);
    for (const bad of ['orders; DROP TABLE x', 'Outbox', '"quoted"', 'a.b.c']) {
      const error = (() => {
        try {
          outboxTables(bad);
        } catch (caught) {
          return caught;
        }
      })();
      expect((error as EdakitError).code).toBe(ErrorCodes.INVALID_OPTIONS);
    }
    expect(() => createPostgresOutbox({ pool: f.pool, bus: f.bus, table: 'x y' })).toThrow(
      /lower-case SQL identifier/,
    );
  });

  it('adds prepared events in one statement, numbering each key in order after its earlier events', async () => {
    fixture = await outboxFixture();
    const f = fixture;
    await f.outbox.transaction((c) => f.outbox.add(c, OrderPlaced, { orderId: 'o-1', n: 0 }));
    const events = [
      f.bus.prepare(OrderPlaced, { orderId: 'o-1', n: 1 }),
      f.bus.prepare(OrderPlaced, { orderId: 'o-2', n: 1 }),
      f.bus.prepare(OrderPlaced, { orderId: 'o-1', n: 2 }),
      f.bus.prepare(AuditNoted, { text: 'unkeyed' }),
      f.bus.prepare(OrderPlaced, { orderId: 'o-1', n: 3 }),
    ];
    await f.outbox.transaction((c) => f.outbox.addPrepared(c, events));
    const stored = await f.pool.query<{
      id: string;
      key: string;
      sequence: string;
      n: number | null;
    }>(
      `SELECT id, key, sequence, (convert_from(body, 'UTF8')::jsonb ->> 'n')::int AS n FROM ${f.table} ORDER BY key, sequence`,
    );
    const byKey = (key: string) =>
      stored.rows.filter((row) => row.key === key).map((row) => [Number(row.sequence), row.n]);
    expect(byKey('o-1')).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 3],
    ]);
    expect(byKey('o-2')).toEqual([[1, 1]]);
    expect(stored.rows.map((row) => row.id)).toContain(events[3]?.envelope.id);
    expect(stored.rows).toHaveLength(6);
  });
});
