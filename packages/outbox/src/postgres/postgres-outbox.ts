import {
  type AnyEventContract,
  type Bus,
  type EventData,
  type EventEnvelope,
  type EventInput,
  InvalidStateError,
  type PreparedEvent,
  type PublishOptions,
} from '@edakit/core';
import { CommitSignal } from '../commit-signal';
import { migrate, type Queryable } from './migration';
import { type OutboxTables, outboxTables } from './outbox-tables';
import { type PoolLike, PostgresOutboxStore } from './postgres-outbox-store';
import {
  buildPreparedInsert,
  type PreparedInsertOptions,
  type PreparedInsertSql,
} from './prepared-insert';
import { inTransaction } from './transaction';

export interface PostgresOutboxOptions {
  readonly pool: PoolLike;
  /** Validates and encodes events exactly as the bus would publish them. */
  readonly bus: Pick<Bus, 'prepare'>;
  /** Base table name, optionally schema-qualified; default `edakit_outbox`. */
  readonly table?: string;
  /**
   * Keep published rows (with `published_at`) as an audit trail until the
   * relay's retention (`retentionMs`, default 1 h) prunes them in batches.
   * Default false: a row is deleted when its publish is settled, which keeps
   * the table small and the relay fast.
   */
  readonly keepPublished?: boolean;
  /**
   * Also `NOTIFY` on the outbox channel from each writing transaction, for
   * relays in other processes (`listen` on the relay). Off by default: NOTIFY
   * serialises committing writers on a global lock.
   */
  readonly notify?: boolean;
}

export interface PostgresOutbox {
  readonly store: PostgresOutboxStore;
  readonly tables: OutboxTables;
  /** Wakes relays in this process; `transaction` calls it after each commit. */
  readonly commits: CommitSignal;
  /** Creates the tables if they do not exist (or run `outboxMigrationSql()` yourself). */
  migrate(): Promise<void>;
  /**
   * Validates and encodes the event, then inserts it through `client`: pass the
   * client of your open transaction so the event commits or rolls back with your
   * own writes. `options.sequence`, when given, is the aggregate's version and
   * must grow per key; otherwise the outbox numbers the key's events itself.
   * Resolves to the envelope that will be published.
   */
  add<C extends AnyEventContract>(
    client: Queryable,
    contract: C,
    data: EventInput<C>,
    options?: PublishOptions,
  ): Promise<EventEnvelope<EventData<C>, C['type']>>;
  /**
   * Inserts events already prepared with `bus.prepare` (in order), through
   * `client`. For libraries that build on the outbox, such as sagas; see also
   * `preparedInsertSql`, which puts the same inserts into the caller's statement.
   */
  addPrepared(client: Queryable, events: readonly PreparedEvent[]): Promise<void>;
  /**
   * Runs `work` in a transaction on a pool client (BEGIN ... COMMIT, ROLLBACK
   * on a throw) and wakes this process's relays once it committed.
   */
  transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T>;
}

/** How each outbox made by `createPostgresOutbox` inserts prepared events into a statement. */
const builders = new WeakMap<
  PostgresOutbox,
  (
    events: readonly PreparedEvent[],
    options?: PreparedInsertOptions,
  ) => PreparedInsertSql | undefined
>();

/**
 * The inserts `outbox.addPrepared(client, events)` would run, as CTEs of the
 * caller's own statement (`WITH yours AS (...), <ctes> SELECT ...`): one
 * statement commits the caller's row and the events together without BEGIN
 * ... COMMIT, and `options.when` can make the events depend on that row
 * having been written (a compare-and-set). Undefined when `addPrepared` must
 * do it: no events, an event with its own sequence, or an object that
 * `createPostgresOutbox` did not return (a wrapper may have replaced
 * `addPrepared`, so only it knows how events are written).
 *
 * @example
 * const parts = preparedInsertSql(outbox, events, { firstParameter: 3, when: 'EXISTS (SELECT 1 FROM w)' });
 * if (parts) await pool.query(
 *   `WITH w AS (UPDATE t SET v = $2 WHERE id = $1 RETURNING 1), ${parts.ctes} SELECT 1 FROM w`,
 *   [id, v, ...parts.values],
 * );
 */
export function preparedInsertSql(
  outbox: PostgresOutbox,
  events: readonly PreparedEvent[],
  options?: PreparedInsertOptions,
): PreparedInsertSql | undefined {
  return builders.get(outbox)?.(events, options);
}

export function createPostgresOutbox(options: PostgresOutboxOptions): PostgresOutbox {
  const tables = outboxTables(options.table);
  const store = new PostgresOutboxStore(options.pool, tables, options.keepPublished === true);
  const commits = new CommitSignal();
  const notify = options.notify === true ? `, pg_notify('${tables.channel}', '')` : '';
  // One statement per event: the sequence upsert locks the key's counter row
  // until the writer commits, so a key's events commit in sequence order.
  const insertNumbered = `
    WITH s AS (
      INSERT INTO ${tables.sequences} (key, last_sequence) VALUES ($2, 1)
      ON CONFLICT (key) DO UPDATE SET last_sequence = ${tables.sequences}.last_sequence + 1
      RETURNING last_sequence
    )
    INSERT INTO ${tables.outbox} (id, key, sequence, unkeyed, channel, type, headers, body)
    SELECT $1, $2, s.last_sequence, $3, $4, $5, $6, $7 FROM s
    RETURNING sequence${notify}`;
  const insertSequenced = `
    WITH s AS (
      INSERT INTO ${tables.sequences} (key, last_sequence) VALUES ($2, $8)
      ON CONFLICT (key) DO UPDATE SET last_sequence = EXCLUDED.last_sequence
      WHERE ${tables.sequences}.last_sequence < EXCLUDED.last_sequence
      RETURNING last_sequence
    )
    INSERT INTO ${tables.outbox} (id, key, sequence, unkeyed, channel, type, headers, body)
    SELECT $1, $2, s.last_sequence, $3, $4, $5, $6, $7 FROM s
    RETURNING sequence${notify}`;

  // An event without a partition key is its own key: no counter row (that
  // would grow by one row per event), sequence 1.
  const insertUnkeyed = `
    INSERT INTO ${tables.outbox} (id, key, sequence, unkeyed, channel, type, headers, body)
    VALUES ($1, $2, 1, $3, $4, $5, $6, $7)
    RETURNING sequence${notify}`;

  const add: PostgresOutbox['add'] = async (client, contract, data, publishOptions) => {
    const prepared = options.bus.prepare(contract, data, publishOptions);
    await insert(client, prepared, publishOptions?.sequence);
    return prepared.envelope;
  };

  const insert = async (
    client: Queryable,
    { envelope, outgoing }: PreparedEvent,
    sequence: number | undefined,
  ) => {
    const { message } = outgoing;
    const unkeyed = message.key === undefined;
    const values: unknown[] = [
      envelope.id,
      message.key ?? envelope.id,
      unkeyed,
      outgoing.channel,
      outgoing.type,
      JSON.stringify(message.headers),
      Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
    ];
    if (unkeyed) {
      await client.query(insertUnkeyed, values);
      return;
    }
    if (sequence === undefined) {
      await client.query(insertNumbered, values);
      return;
    }
    const result = await client.query(insertSequenced, [...values, sequence]);
    if (result.rows.length === 0) {
      throw new InvalidStateError(
        `outbox sequence ${sequence} for key "${message.key ?? envelope.id}" is not above the key's last sequence: events of one key must be added in growing sequence order`,
        { eventType: envelope.type, eventId: envelope.id, key: message.key, sequence },
      );
    }
  };

  // Several keyed events in one statement: one counter upsert per key (in key
  // order, so concurrent writers lock counters in the same order) and one insert.
  const insertBatch = `
    WITH v AS (
      SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::jsonb[], $7::bytea[])
        AS v(id, key, ord, channel, type, headers, body)
    ),
    counts AS (SELECT key, count(*)::bigint AS n FROM v GROUP BY key),
    s AS (
      INSERT INTO ${tables.sequences} (key, last_sequence) SELECT key, n FROM counts ORDER BY key
      ON CONFLICT (key) DO UPDATE SET last_sequence = ${tables.sequences}.last_sequence + EXCLUDED.last_sequence
      RETURNING key, last_sequence
    )
    INSERT INTO ${tables.outbox} (id, key, sequence, unkeyed, channel, type, headers, body)
    SELECT v.id, v.key, s.last_sequence - c.n + v.ord, false, v.channel, v.type, v.headers, v.body
    FROM v JOIN s USING (key) JOIN counts c USING (key)
    RETURNING sequence${notify}`;

  const statementOf = (
    events: readonly PreparedEvent[],
    statementOptions?: PreparedInsertOptions,
  ) => buildPreparedInsert(tables, notify, events, statementOptions);

  const addPrepared: PostgresOutbox['addPrepared'] = async (client, events) => {
    // Without own sequences: every event in one statement.
    const parts = statementOf(events);
    if (parts !== undefined) {
      await client.query(`WITH ${parts.ctes} SELECT ${parts.inserted} AS inserted`, [
        ...parts.values,
      ]);
      return;
    }
    const numbered = events.filter(
      (event) => event.outgoing.message.key !== undefined && event.envelope.sequence === undefined,
    );
    if (numbered.length < 2) {
      for (const event of events) await insert(client, event, event.envelope.sequence);
      return;
    }
    for (const event of events) {
      if (!numbered.includes(event)) await insert(client, event, event.envelope.sequence);
    }
    const positions = new Map<string, number>();
    const columns = numbered.map(({ envelope, outgoing }) => {
      const key = outgoing.message.key as string;
      const ord = (positions.get(key) ?? 0) + 1;
      positions.set(key, ord);
      const body = outgoing.message.body;
      return [
        envelope.id,
        key,
        ord,
        outgoing.channel,
        outgoing.type,
        JSON.stringify(outgoing.message.headers),
        Buffer.from(body.buffer, body.byteOffset, body.byteLength),
      ] as const;
    });
    await client.query(
      insertBatch,
      [0, 1, 2, 3, 4, 5, 6].map((column) => columns.map((row) => row[column])),
    );
  };

  const transaction: PostgresOutbox['transaction'] = async (work) => {
    const result = await inTransaction(options.pool, work);
    commits.emit();
    return result;
  };

  const outbox: PostgresOutbox = {
    store,
    tables,
    commits,
    addPrepared,
    migrate: () =>
      migrate(options.pool, options.table === undefined ? {} : { table: options.table }),
    add,
    transaction,
  };
  builders.set(outbox, statementOf);
  return outbox;
}
