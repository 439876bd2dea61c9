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
} from '@edakit/outbox';
import type { SagaInstance, SagaStatus, SagaTimeout } from '../engine/saga-instance';
import type { DueTimeout, SagaQuery, SagaStore } from '../store/saga-store';
import { migrateSagaTable, sagaTableName } from './saga-table';

interface PostgresSagaStoreBaseOptions {
  /** Lends a client per write: the instance and its commands commit in one transaction. */
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
}

const ms = (column: string) => `(extract(epoch from ${column}) * 1000)::bigint AS ${column}`;
const COLUMNS = [
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
  ms('timeout_due_at'),
  'timeout_kind',
  'processed',
  'failure',
  ms('created_at'),
  ms('updated_at'),
].join(', ');

/** Milliseconds of the runtime's clock → timestamptz (exact to the millisecond). */
const at = (param: number) => `to_timestamp($${param}::float8 / 1000)`;

/**
 * Saga instances in PostgreSQL. `create` is INSERT ... ON CONFLICT DO
 * NOTHING and `update` is UPDATE ... WHERE version = expected, each in one
 * transaction with the commands of the transition inserted into the outbox
 * (`outbox.addPrepared`): a crash leaves the instance before or after a
 * transition, never between, and the relay publishes the commands only after
 * the commit. The store's `outbox` is that outbox's relay side and `commits`
 * its commit signal.
 *
 * Timers are a column indexed for `claimDueTimeouts`, which leases due ones
 * with FOR UPDATE SKIP LOCKED. Finished instances stay as tombstones until
 * `pruneTombstones` deletes them.
 *
 * @example
 * const store = new PostgresSagaStore({ pool, bus });
 * await store.migrate();
 * const runtime = createSagaRuntime({ bus, transport, store, sagas: [OrderSaga] });
 */
export class PostgresSagaStore implements SagaStore {
  readonly outbox: PostgresOutboxStore;
  readonly commits: CommitSignal;
  readonly table: string;
  readonly tombstoneTtlMs: number;
  private readonly pool: PoolLike;
  private readonly writer: PostgresOutbox;
  private readonly sql: {
    insert: string;
    update: string;
    load: string;
    claim: string;
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
          created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::text[], $10, ${at(11)}, $12, ${at(11)},
          $13::text[], $14::jsonb, ${at(15)}, ${at(16)})
        ON CONFLICT (saga, id) DO NOTHING`,
      update: `
        UPDATE ${t} SET definition_version = $3, version = $4, status = $5, step = $6,
          attempt = $7, data = $8::jsonb, completed_steps = $9::text[], timeout_token = $10,
          timeout_due_at = ${at(11)}, timeout_kind = $12, due_at = ${at(11)},
          processed = $13::text[], failure = $14::jsonb, created_at = ${at(15)},
          updated_at = ${at(16)}
        WHERE saga = $1 AND id = $2 AND version = $17`,
      load: `SELECT ${COLUMNS} FROM ${t} WHERE saga = $1 AND id = $2`,
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
    return this.write(this.sql.insert, rowValues(instance), sends);
  }

  async load(saga: string, id: string): Promise<SagaInstance | undefined> {
    const result = await this.pool.query<InstanceRow>(this.sql.load, [saga, id]);
    const row = result.rows[0];
    return row === undefined ? undefined : this.toInstance(row);
  }

  async update(instance: SagaInstance, sends: readonly PreparedEvent[]): Promise<boolean> {
    if (!Number.isInteger(instance.version) || instance.version < 2) {
      throw new InvalidOptionsError('An update stores version 2 or later (the stored one + 1)', {
        saga: instance.saga,
        sagaId: instance.id,
        version: instance.version,
      });
    }
    return this.write(this.sql.update, [...rowValues(instance), instance.version - 1], sends);
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

  /**
   * Deletes completed and compensated instances last changed more than
   * `tombstoneTtlMs` before `now` (the runtime's clock), at most `limit`;
   * returns how many. Run it periodically, e.g. hourly.
   */
  async pruneTombstones(now: number = Date.now(), limit = 5000): Promise<number> {
    positiveInteger('limit', limit);
    const result = await this.pool.query(this.sql.prune, [now - this.tombstoneTtlMs, limit]);
    return result.rowCount ?? 0;
  }

  /** The row write and the outbox inserts in one transaction; false (rolled back) when the row was not written. */
  private async write(
    sql: string,
    values: unknown[],
    sends: readonly PreparedEvent[],
  ): Promise<boolean> {
    // Nothing to send: the row write alone is atomic, no transaction needed.
    if (sends.length === 0) return (await this.pool.query(sql, values)).rowCount === 1;
    const client = await this.pool.connect();
    let written = false;
    try {
      await client.query('BEGIN');
      const result = await client.query(sql, values);
      written = result.rowCount === 1;
      if (written) await this.writer.addPrepared(client, sends);
      await client.query(written ? 'COMMIT' : 'ROLLBACK');
      client.release();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    if (written) this.commits.emit();
    return written;
  }

  private toInstance(row: InstanceRow): SagaInstance {
    const where = `${this.table} (${row.saga}, ${row.id})`;
    if (!isStatus(row.status)) {
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

/** $1..$16 of the insert and update statements. */
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
  ];
}

const STATUSES: readonly string[] = ['running', 'completed', 'compensated'] satisfies SagaStatus[];
const isStatus = (value: string): value is SagaStatus => STATUSES.includes(value);

function positiveInteger(name: string, value: number): void {
  if (!(Number.isInteger(value) && value > 0)) {
    throw new InvalidOptionsError(`${name} must be a positive integer`, { [name]: value });
  }
}
