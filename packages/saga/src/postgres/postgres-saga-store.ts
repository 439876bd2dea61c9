// From node:timers, not the global: fake timers in a user's tests replace the
// global, and loads and writes must still go out.
import { setImmediate as nextTurn } from 'node:timers';
import {
  type Bus,
  InvalidOptionsError,
  InvalidStateError,
  messageOf,
  type PreparedEvent,
} from '@edakit/core';
import {
  type CommitSignal,
  createPostgresOutbox,
  type PoolLike,
  type PostgresOutbox,
  type PostgresOutboxStore,
  preparedInsertSql,
} from '@edakit/outbox';
import {
  isSagaStatus,
  type SagaInstance,
  type SagaTimeout,
  traceOf,
} from '../engine/saga-instance';
import type {
  DueTimeout,
  InstanceCounts,
  SagaQuery,
  SagaStore,
  TombstonePruning,
} from '../store/saga-store';
import { migrateSagaTable, sagaTableName } from './saga-table';

interface PostgresSagaStoreBaseOptions {
  /** Runs the statements; lends a client for a transaction where one statement cannot do a write. */
  readonly pool: PoolLike;
  /** Table of the instances, optionally schema-qualified. Default `edakit_saga_instances`. */
  readonly table?: string;
  /** How long `pruneTombstones` keeps completed and compensated instances. Default 7 days. */
  readonly tombstoneTtlMs?: number;
}

export type PostgresSagaStoreOptions = PostgresSagaStoreBaseOptions &
  (
    | {
        /** The outbox the commands are written to; it must use the same database as `pool`. */
        readonly outbox: PostgresOutbox;
        readonly bus?: never;
        readonly outboxTable?: never;
      }
    | {
        /** Used to create the store's own outbox (`createPostgresOutbox`) over `pool`. */
        readonly bus: Pick<Bus, 'prepare'>;
        /** Base table name of that outbox. Default `edakit_outbox`. */
        readonly outboxTable?: string;
        readonly outbox?: never;
      }
  );

export const DEFAULT_PG_TOMBSTONE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

interface InstanceRow {
  saga: string;
  id: string;
  definition_version: number;
  version: number;
  status: string;
  step: number;
  attempt: number;
  data: unknown;
  completed_steps: string[];
  timeout_token: string | null;
  timeout_due_at: string | null;
  timeout_kind: string | null;
  processed: string[];
  failure: { step?: unknown; reason?: unknown } | null;
  created_at: string;
  updated_at: string;
  traceparent: string | null;
  tracestate: string | null;
}

const ms = (column: string) => `(extract(epoch from ${column}) * 1000)::bigint AS ${column}`;
/** Fields of rowValues (then `expected`, the stored version an update replaces), by position. */
const FIELDS = [
  'saga',
  'id',
  'definition_version',
  'version',
  'status',
  'step',
  'attempt',
  'data',
  'completed_steps',
  'timeout_token',
  'timeout_due_at',
  'timeout_kind',
  'processed',
  'failure',
  'created_at',
  'updated_at',
  'traceparent',
  'tracestate',
  'expected',
] as const;

/** What a load reads: the stored fields, times as epoch milliseconds. */
const COLUMNS = FIELDS.filter((field) => field !== 'expected')
  .map((field) => (field.endsWith('_at') ? ms(field) : field))
  .join(', ');

/** Milliseconds of the runtime's clock → timestamptz (exact to the millisecond). */
const at = (param: number) => `to_timestamp($${param}::float8 / 1000)`;

/**
 * Saga instances in PostgreSQL. `create` is INSERT ... ON CONFLICT DO
 * NOTHING and `update` is UPDATE ... WHERE version = expected, each one
 * statement with the outbox inserts of the transition's commands, which run
 * only if the row was written (data-modifying CTEs, `preparedInsertSql`): a
 * crash leaves the instance before or after a transition, never between, and
 * the relay publishes the commands only after the commit. Where one statement
 * cannot do it (an outbox object not made by `createPostgresOutbox`, commands
 * with their own sequences) the row and `outbox.addPrepared` share a
 * transaction instead. The store's `outbox` is that outbox's relay side and
 * `commits` its commit signal.
 *
 * Loads asked for in the same turn of the event loop (a batch of timers, a
 * burst of replies) are read by one query.
 *
 * Timers are a column indexed for `claimDueTimeouts`, which leases due ones
 * with FOR UPDATE SKIP LOCKED. Finished instances stay as tombstones until
 * `pruneTombstones` deletes them; the runtime runs it every
 * `tombstonePruneIntervalMs`.
 *
 * @example
 * const store = new PostgresSagaStore({ pool, bus });
 * await store.migrate();
 * const runtime = createSagaRuntime({ bus, transport, store, sagas: [OrderSaga] });
 */
export class PostgresSagaStore implements SagaStore, TombstonePruning {
  readonly outbox: PostgresOutboxStore;
  readonly commits: CommitSignal;
  readonly table: string;
  readonly tombstoneTtlMs: number;
  private readonly pool: PoolLike;
  private readonly writer: PostgresOutbox;
  /** Loads waiting for the next query, by saga and id; undefined when none is due. */
  private loads: Map<string, PendingLoad> | undefined;
  /** Writes waiting for the next statement, by saga and id. */
  private readonly writes: Record<WriteKind, Map<string, PendingWrite> | undefined> = {
    insert: undefined,
    update: undefined,
  };
  private readonly sql: {
    insert: string;
    update: string;
    insertMany: string;
    updateMany: string;
    load: string;
    loadMany: string;
    claim: string;
    count: string;
    findAll: string;
    findByStatus: string;
    prune: string;
  };

  constructor(options: PostgresSagaStoreOptions) {
    if (typeof options?.pool?.connect !== 'function') {
      throw new InvalidOptionsError('PostgresSagaStore needs a pg Pool (`pool`)');
    }
    this.pool = options.pool;
    this.table = sagaTableName(options.table);
    this.tombstoneTtlMs = options.tombstoneTtlMs ?? DEFAULT_PG_TOMBSTONE_TTL_MS;
    if (!Number.isInteger(this.tombstoneTtlMs) || this.tombstoneTtlMs < 1) {
      throw new InvalidOptionsError('PostgresSagaStore tombstoneTtlMs must be a positive integer', {
        option: 'tombstoneTtlMs',
        value: this.tombstoneTtlMs,
      });
    }
    if (options.outbox !== undefined) {
      this.writer = options.outbox;
    } else if (typeof options.bus?.prepare === 'function') {
      this.writer = createPostgresOutbox({
        pool: options.pool,
        bus: options.bus,
        ...(options.outboxTable === undefined ? {} : { table: options.outboxTable }),
      });
    } else {
      throw new InvalidOptionsError(
        'PostgresSagaStore needs an `outbox` (createPostgresOutbox) or a `bus` to create one',
      );
    }
    this.outbox = this.writer.store;
    this.commits = this.writer.commits;
    const t = this.table;
    this.sql = {
      insert: `
        INSERT INTO ${t} (saga, id, definition_version, version, status, step, attempt, data,
          completed_steps, timeout_token, timeout_due_at, timeout_kind, due_at, processed, failure,
          created_at, updated_at, traceparent, tracestate)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::text[], $10, ${at(11)}, $12, ${at(11)},
          $13::text[], $14::jsonb, ${at(15)}, ${at(16)}, $17, $18)
        ON CONFLICT (saga, id) DO NOTHING`,
      update: `
        UPDATE ${t} SET definition_version = $3, version = $4, status = $5, step = $6,
          attempt = $7, data = $8::jsonb, completed_steps = $9::text[], timeout_token = $10,
          timeout_due_at = ${at(11)}, timeout_kind = $12, due_at = ${at(11)},
          processed = $13::text[], failure = $14::jsonb, created_at = ${at(15)},
          updated_at = ${at(16)}, traceparent = $17, tracestate = $18
        WHERE saga = $1 AND id = $2 AND version = $19`,
      // Several writes, one per instance, as rows of $1 (a JSON array, see rowRecord):
      // each compare-and-set on its own; saga_written holds the pos of those written.
      insertMany: `
        WITH saga_input AS (${INPUT}),
        saga_inserted AS (
          INSERT INTO ${t} (saga, id, definition_version, version, status, step, attempt, data,
            completed_steps, timeout_token, timeout_due_at, timeout_kind, due_at, processed,
            failure, created_at, updated_at, traceparent, tracestate)
          SELECT saga, id, definition_version, version, status, step, attempt, data::jsonb,
            completed_steps, timeout_token, ${atColumn('timeout_due_at')}, timeout_kind,
            ${atColumn('timeout_due_at')}, processed, failure::jsonb, ${atColumn('created_at')},
            ${atColumn('updated_at')}, traceparent, tracestate
          FROM saga_input ORDER BY saga, id
          ON CONFLICT (saga, id) DO NOTHING
          RETURNING saga, id
        ),
        saga_written AS (SELECT r.pos FROM saga_input r JOIN saga_inserted USING (saga, id))`,
      updateMany: `
        WITH saga_input AS (${INPUT}),
        saga_written AS (
          UPDATE ${t} s SET definition_version = r.definition_version, version = r.version,
            status = r.status, step = r.step, attempt = r.attempt, data = r.data::jsonb,
            completed_steps = r.completed_steps, timeout_token = r.timeout_token,
            timeout_due_at = ${atColumn('r.timeout_due_at')}, timeout_kind = r.timeout_kind,
            due_at = ${atColumn('r.timeout_due_at')}, processed = r.processed,
            failure = r.failure::jsonb, created_at = ${atColumn('r.created_at')},
            updated_at = ${atColumn('r.updated_at')}, traceparent = r.traceparent,
            tracestate = r.tracestate
          FROM saga_input r
          WHERE s.saga = r.saga AND s.id = r.id AND s.version = r.expected
          RETURNING r.pos
        )`,
      load: `SELECT ${COLUMNS} FROM ${t} WHERE saga = $1 AND id = $2`,
      loadMany: `
        SELECT ${COLUMNS} FROM ${t}
        WHERE (saga, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      // Rows another runtime is writing (locked) are skipped, not waited for.
      claim: `
        WITH due AS (
          SELECT saga, id, due_at FROM ${t}
          WHERE due_at <= ${at(1)}
          ORDER BY due_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED
        ), claimed AS (
          UPDATE ${t} s SET due_at = ${at(3)}
          FROM due WHERE s.saga = due.saga AND s.id = due.id
          RETURNING s.saga, s.id, s.timeout_token, due.due_at AS was_due
        )
        SELECT saga, id, timeout_token FROM claimed ORDER BY was_due, saga, id`,
      count: `SELECT status, count(*)::int AS count FROM ${t} WHERE saga = $1 GROUP BY status`,
      findAll: `SELECT ${COLUMNS} FROM ${t} WHERE saga = $1 ORDER BY id LIMIT $2`,
      findByStatus: `SELECT ${COLUMNS} FROM ${t} WHERE saga = $1 AND status = $2 ORDER BY id LIMIT $3`,
      prune: `
        DELETE FROM ${t} WHERE (saga, id) IN (
          SELECT saga, id FROM ${t}
          WHERE status <> 'running' AND updated_at < ${at(1)}
          LIMIT $2
        )`,
    };
  }

  /** Creates the instances table and the outbox's tables if they do not exist. */
  async migrate(): Promise<void> {
    await migrateSagaTable(this.pool, this.table);
    await this.writer.migrate();
  }

  async create(instance: SagaInstance, sends: readonly PreparedEvent[]): Promise<boolean> {
    return this.enqueue('insert', rowValues(instance), sends);
  }

  /**
   * The stored instance. Loads asked for in the same turn are read together,
   * by a query sent after all of them were asked for.
   */
  load(saga: string, id: string): Promise<SagaInstance | undefined> {
    if (this.loads === undefined) {
      const loads = new Map<string, PendingLoad>();
      this.loads = loads;
      nextTurn(() => {
        this.loads = undefined;
        void this.readLoads(loads);
      });
    }
    const key = `${saga}\u0000${id}`;
    let pending = this.loads.get(key);
    if (pending === undefined) {
      pending = { saga, id, waiters: [] };
      this.loads.set(key, pending);
    }
    const waiters = pending.waiters;
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  }

  /** One query per LOAD_BATCH pending loads; each load settles on its own row. */
  private async readLoads(loads: Map<string, PendingLoad>): Promise<void> {
    await Promise.all(chunks([...loads.values()], LOAD_BATCH).map((batch) => this.read(batch)));
  }

  private async read(batch: readonly PendingLoad[]): Promise<void> {
    let rows: InstanceRow[];
    try {
      const result =
        batch.length === 1
          ? await this.pool.query<InstanceRow>(this.sql.load, [batch[0]?.saga, batch[0]?.id])
          : await this.pool.query<InstanceRow>(this.sql.loadMany, [
              batch.map((load) => load.saga),
              batch.map((load) => load.id),
            ]);
      rows = result.rows;
    } catch (error) {
      for (const load of batch) for (const waiter of load.waiters) waiter.reject(error);
      return;
    }
    // PostgreSQL text holds no NUL: saga and id joined by one are unambiguous.
    const byKey = new Map(rows.map((row) => [`${row.saga}\u0000${row.id}`, row]));
    for (const load of batch) {
      const row = byKey.get(`${load.saga}\u0000${load.id}`);
      let instance: SagaInstance | undefined;
      try {
        instance = row === undefined ? undefined : this.toInstance(row);
      } catch (error) {
        for (const waiter of load.waiters) waiter.reject(error);
        continue;
      }
      // Each caller gets its own copy, as from a query of its own.
      for (const [index, waiter] of load.waiters.entries()) {
        waiter.resolve(
          index === 0 || instance === undefined ? instance : structuredClone(instance),
        );
      }
    }
  }

  async update(instance: SagaInstance, sends: readonly PreparedEvent[]): Promise<boolean> {
    if (!Number.isInteger(instance.version) || instance.version < 2) {
      throw new InvalidOptionsError('An update stores version 2 or later (the stored one + 1)', {
        saga: instance.saga,
        sagaId: instance.id,
        version: instance.version,
      });
    }
    return this.enqueue('update', [...rowValues(instance), instance.version - 1], sends);
  }

  async claimDueTimeouts(now: number, limit: number, leaseMs: number): Promise<DueTimeout[]> {
    if (!Number.isFinite(now))
      throw new InvalidOptionsError('now must be a finite number', { now });
    positiveInteger('limit', limit);
    positiveInteger('leaseMs', leaseMs);
    const result = await this.pool.query<{
      saga: string;
      id: string;
      timeout_token: string | null;
    }>(this.sql.claim, [now, limit, now + leaseMs]);
    return result.rows
      .filter((row) => row.timeout_token !== null)
      .map((row) => ({ saga: row.saga, id: row.id, token: row.timeout_token as string }));
  }

  async find({ saga, status, limit = 100 }: SagaQuery): Promise<SagaInstance[]> {
    positiveInteger('limit', limit);
    const result =
      status === undefined
        ? await this.pool.query<InstanceRow>(this.sql.findAll, [saga, limit])
        : await this.pool.query<InstanceRow>(this.sql.findByStatus, [saga, status, limit]);
    return result.rows.map((row) => this.toInstance(row));
  }

  /** By status, from the (saga, status, id) index; tombstones count until pruned. */
  async countInstances(saga: string): Promise<InstanceCounts> {
    const result = await this.pool.query<{ status: string; count: number }>(this.sql.count, [saga]);
    const counts = { running: 0, completed: 0, compensated: 0 };
    for (const row of result.rows) if (isSagaStatus(row.status)) counts[row.status] = row.count;
    return counts;
  }

  /**
   * Deletes completed and compensated instances last changed more than
   * `tombstoneTtlMs` before `now` (the runtime's clock), at most `limit`;
   * returns how many. The runtime runs it every `tombstonePruneIntervalMs`
   * (hourly by default).
   */
  async pruneTombstones(now: number = Date.now(), limit = 5000): Promise<number> {
    positiveInteger('limit', limit);
    const result = await this.pool.query(this.sql.prune, [now - this.tombstoneTtlMs, limit]);
    return result.rowCount ?? 0;
  }

  /**
   * Writes asked for in the same turn go out together, WRITE_BATCH per
   * statement; a second write of one instance in that turn goes on its own.
   */
  private enqueue(
    kind: WriteKind,
    values: unknown[],
    sends: readonly PreparedEvent[],
  ): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const write: PendingWrite = { values, sends, resolve, reject };
      let queue = this.writes[kind];
      if (queue === undefined) {
        const taken = new Map<string, PendingWrite>();
        queue = taken;
        this.writes[kind] = taken;
        nextTurn(() => {
          this.writes[kind] = undefined;
          void this.flush(kind, [...taken.values()]);
        });
      }
      const key = `${values[0]}\u0000${values[1]}`;
      if (queue.has(key)) void this.writeOne(kind, write);
      else queue.set(key, write);
    });
  }

  private async flush(kind: WriteKind, writes: readonly PendingWrite[]): Promise<void> {
    if (writes.length === 1) {
      await this.writeOne(kind, writes[0] as PendingWrite);
      return;
    }
    const sorted = [...writes].sort((a, b) => compareKeys(a.values, b.values));
    await Promise.all(chunks(sorted, WRITE_BATCH).map((batch) => this.writeMany(kind, batch)));
  }

  /**
   * Several instances (one write each) and their commands in one statement:
   * each row is a compare-and-set of its own, and a write's commands are
   * inserted only if its row was. If the statement fails, nothing was written
   * and each write is tried on its own, so only a faulty one fails.
   */
  private async writeMany(kind: WriteKind, writes: readonly PendingWrite[]): Promise<void> {
    const events = writes.flatMap((write) => write.sends);
    const parts =
      events.length === 0
        ? undefined
        : preparedInsertSql(this.writer, events, {
            firstParameter: 2,
            tags: writes.flatMap((write, index) => write.sends.map(() => index + 1)),
            when: 'tag IN (SELECT pos FROM saga_written)',
          });
    if (events.length > 0 && parts === undefined) {
      await Promise.all(writes.map((write) => this.writeOne(kind, write)));
      return;
    }
    const records = JSON.stringify(
      writes.map((write, index) => rowRecord(index + 1, write.values)),
    );
    let written: Set<number>;
    try {
      const result = await this.pool.query<{ pos: number }>(
        `${kind === 'insert' ? this.sql.insertMany : this.sql.updateMany}${parts === undefined ? '' : `, ${parts.ctes}`}
        SELECT pos FROM saga_written`,
        [records, ...(parts?.values ?? [])],
      );
      written = new Set(result.rows.map((row) => row.pos));
    } catch {
      await Promise.all(writes.map((write) => this.writeOne(kind, write)));
      return;
    }
    if (writes.some((write, index) => write.sends.length > 0 && written.has(index + 1))) {
      this.commits.emit();
    }
    for (const [index, write] of writes.entries()) write.resolve(written.has(index + 1));
  }

  private async writeOne(kind: WriteKind, { values, sends, resolve, reject }: PendingWrite) {
    try {
      resolve(
        await this.write(kind === 'insert' ? this.sql.insert : this.sql.update, values, sends),
      );
    } catch (error) {
      reject(error);
    }
  }

  /**
   * One instance and its commands, atomically: one statement whose outbox
   * inserts run only if the row was written, or else one transaction. False
   * (nothing written) when the row was not written.
   */
  private async write(
    sql: string,
    values: unknown[],
    sends: readonly PreparedEvent[],
  ): Promise<boolean> {
    // Nothing to send: the row write alone is atomic.
    if (sends.length === 0) return (await this.pool.query(sql, values)).rowCount === 1;
    const parts = preparedInsertSql(this.writer, sends, {
      firstParameter: values.length + 1,
      when: 'EXISTS (SELECT 1 FROM saga_written)',
    });
    let written: boolean;
    if (parts === undefined) {
      written = await this.writeInTransaction(sql, values, sends);
    } else {
      const result = await this.pool.query(
        `WITH saga_written AS (${sql} RETURNING 1), ${parts.ctes}
        SELECT ${parts.inserted} AS inserted FROM saga_written`,
        [...values, ...parts.values],
      );
      written = result.rows.length === 1;
    }
    if (written) this.commits.emit();
    return written;
  }

  /** BEGIN, the row, `addPrepared` if it was written, COMMIT (ROLLBACK when it was not). */
  private async writeInTransaction(
    sql: string,
    values: unknown[],
    sends: readonly PreparedEvent[],
  ): Promise<boolean> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await client.query(sql, values);
      const written = result.rowCount === 1;
      if (written) await this.writer.addPrepared(client, sends);
      await client.query(written ? 'COMMIT' : 'ROLLBACK');
      client.release();
      return written;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  }

  private toInstance(row: InstanceRow): SagaInstance {
    const where = `${this.table} (${row.saga}, ${row.id})`;
    if (!isSagaStatus(row.status)) {
      throw new InvalidStateError(`Stored saga instance ${where} has an unknown status`, {
        saga: row.saga,
        sagaId: row.id,
        status: row.status,
      });
    }
    let timeout: SagaTimeout | undefined;
    if (row.timeout_token !== null && row.timeout_due_at !== null) {
      if (row.timeout_kind !== 'reply' && row.timeout_kind !== 'retry') {
        throw new InvalidStateError(`Stored saga instance ${where} has an unknown timeout kind`, {
          saga: row.saga,
          sagaId: row.id,
          kind: row.timeout_kind,
        });
      }
      timeout = {
        token: row.timeout_token,
        dueAt: Number(row.timeout_due_at),
        kind: row.timeout_kind,
      };
    }
    const instance: SagaInstance = {
      saga: row.saga,
      id: row.id,
      definitionVersion: row.definition_version,
      version: row.version,
      status: row.status,
      step: row.step,
      attempt: row.attempt,
      data: row.data,
      completedSteps: row.completed_steps,
      timeout,
      processed: row.processed,
      createdAt: Number(row.created_at),
      updatedAt: Number(row.updated_at),
      ...traceOf(row.traceparent ?? undefined, row.tracestate ?? undefined),
    };
    const failure = row.failure;
    if (failure === null) return instance;
    if (
      typeof failure.step !== 'string' ||
      (failure.reason !== 'failed' && failure.reason !== 'timed-out')
    ) {
      throw new InvalidStateError(`Stored saga instance ${where} has a malformed failure`, {
        saga: row.saga,
        sagaId: row.id,
      });
    }
    return { ...instance, failure: { step: failure.step, reason: failure.reason } };
  }
}

/** Most instances read by one query of `load`. */
const LOAD_BATCH = 500;
/** Most instances written by one statement. */
const WRITE_BATCH = 100;

type WriteKind = 'insert' | 'update';

interface PendingWrite {
  /** rowValues, plus the expected version of an update. */
  readonly values: unknown[];
  readonly sends: readonly PreparedEvent[];
  resolve(written: boolean): void;
  reject(error: unknown): void;
}

/** The rows of a multi-row write: $1 as JSON, typed like the parameters of the one-row statements. */
const INPUT = `SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(pos int, saga text, id text,
  definition_version integer, version integer, status text, step integer, attempt integer,
  data text, completed_steps text[], timeout_token text, timeout_due_at float8, timeout_kind text,
  processed text[], failure text, created_at float8, updated_at float8, traceparent text,
  tracestate text, expected integer)`;

/** A JSON column of milliseconds → timestamptz, as `at` does for a parameter. */
const atColumn = (column: string) => `to_timestamp(${column} / 1000)`;

function rowRecord(pos: number, values: readonly unknown[]): Record<string, unknown> {
  const record: Record<string, unknown> = { pos };
  for (const [index, value] of values.entries()) record[FIELDS[index] as string] = value;
  return record;
}

/** By saga, then id: concurrent batches lock rows in the same order where the plan allows. */
function compareKeys(a: readonly unknown[], b: readonly unknown[]): number {
  const [sagaA, idA] = a as [string, string];
  const [sagaB, idB] = b as [string, string];
  if (sagaA !== sagaB) return sagaA < sagaB ? -1 : 1;
  return idA < idB ? -1 : idA > idB ? 1 : 0;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size)
    out.push(items.slice(start, start + size));
  return out;
}

interface PendingLoad {
  readonly saga: string;
  readonly id: string;
  readonly waiters: {
    resolve(instance: SagaInstance | undefined): void;
    reject(error: unknown): void;
  }[];
}

/** $1..$18 of the insert and update statements. */
function rowValues(instance: SagaInstance): unknown[] {
  positiveInteger('version', instance.version);
  const timeout = instance.timeout;
  if (timeout !== undefined && !Number.isFinite(timeout.dueAt)) {
    throw new InvalidOptionsError('timeout.dueAt must be a finite number', {
      saga: instance.saga,
      sagaId: instance.id,
    });
  }
  let data: string;
  try {
    data = JSON.stringify(instance.data ?? null);
  } catch (error) {
    throw new InvalidOptionsError(
      `Saga "${instance.saga}" instance "${instance.id}" cannot be stored: its data is not JSON (${messageOf(error)})`,
      { saga: instance.saga, sagaId: instance.id },
    );
  }
  return [
    instance.saga,
    instance.id,
    instance.definitionVersion,
    instance.version,
    instance.status,
    instance.step,
    instance.attempt,
    data,
    [...instance.completedSteps],
    timeout?.token ?? null,
    timeout?.dueAt ?? null,
    timeout?.kind ?? null,
    [...instance.processed],
    instance.failure === undefined ? null : JSON.stringify(instance.failure),
    instance.createdAt,
    instance.updatedAt,
    instance.traceparent ?? null,
    instance.tracestate ?? null,
  ];
}

function positiveInteger(name: string, value: number): void {
  if (!(Number.isInteger(value) && value > 0)) {
    throw new InvalidOptionsError(`${name} must be a positive integer`, { [name]: value });
  }
}
