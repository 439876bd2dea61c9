import { InvalidOptionsError, type PreparedEvent } from '@edakit/core';
import type { OutboxTables } from './outbox-tables';

/**
 * The inserts of prepared events as parts of one SQL statement: data-modifying
 * CTEs that a caller puts after `WITH`, next to its own, so its row write and
 * the events commit as one statement, with no BEGIN ... COMMIT around them.
 */
export interface PreparedInsertSql {
  /** Comma-separated CTEs (named `outbox_*`), to put after `WITH` or after your CTEs and a comma. */
  readonly ctes: string;
  /** Their parameters, numbered from `firstParameter`: append them to your own. */
  readonly values: readonly unknown[];
  /** A scalar SQL expression: how many outbox rows the statement inserted. */
  readonly inserted: string;
}

export interface PreparedInsertOptions {
  /** Number of the first parameter the parts use (`$n`), after your own; default 1. */
  readonly firstParameter?: number;
  /**
   * A boolean SQL condition on each event, e.g. `EXISTS (SELECT 1 FROM written)`:
   * only the events where it holds are inserted (and numbered). It may use
   * the event's `tag`.
   */
  readonly when?: string;
  /**
   * One integer per event, the column `tag` that `when` may test: with several
   * writes in one statement, the write each event belongs to
   * (`tag IN (SELECT n FROM written)`).
   */
  readonly tags?: readonly number[];
}

/**
 * Builds the CTEs that insert `events` in order: keyed events numbered per key
 * after the key's earlier events (one counter upsert per key, in key order, so
 * concurrent writers lock counters in the same order), unkeyed ones as
 * sequence 1 of their own key. Undefined when there is nothing to insert, or
 * when a keyed event carries its own sequence (`PublishOptions.sequence`): a
 * sequence that does not grow is refused by `addPrepared`, not by a statement.
 */
export function buildPreparedInsert(
  tables: OutboxTables,
  notify: string,
  events: readonly PreparedEvent[],
  { firstParameter = 1, when, tags }: PreparedInsertOptions = {},
): PreparedInsertSql | undefined {
  if (tags !== undefined && tags.length !== events.length) {
    throw new InvalidOptionsError('preparedInsertSql needs one tag per event', {
      events: events.length,
      tags: tags.length,
    });
  }
  const keyed = columns();
  const unkeyed = columns();
  for (const [index, { envelope, outgoing }] of events.entries()) {
    const { message } = outgoing;
    if (message.key !== undefined && envelope.sequence !== undefined) return undefined;
    const to = message.key === undefined ? unkeyed : keyed;
    to.tag.push(tags?.[index] ?? 0);
    to.id.push(envelope.id);
    to.key.push(message.key ?? envelope.id);
    to.channel.push(outgoing.channel);
    to.type.push(outgoing.type);
    to.headers.push(JSON.stringify(message.headers));
    to.body.push(
      Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
    );
  }
  const { outbox, sequences } = tables;
  const where = when === undefined ? '' : ` WHERE ${when}`;
  const ctes: string[] = [];
  const values: unknown[] = [];
  const counted: string[] = [];
  let next = firstParameter;
  /** The parameters of one kind of event, and the unnest that reads them. */
  const rows = (of: ReturnType<typeof columns>): string => {
    const types = ['int', 'uuid', 'text', 'text', 'text', 'jsonb', 'bytea'];
    values.push(of.tag, of.id, of.key, of.channel, of.type, of.headers, of.body);
    const params = types.map((type) => `$${next++}::${type}[]`);
    return `unnest(${params.join(', ')}) WITH ORDINALITY AS e(tag, id, key, channel, type, headers, body, pos)`;
  };
  if (keyed.id.length > 0) {
    // Numbered after the condition, so events left out leave no gap in their key.
    ctes.push(
      `outbox_v AS (
        SELECT e.*, row_number() OVER (PARTITION BY e.key ORDER BY e.pos) AS ord
        FROM ${rows(keyed)}${where}
      )`,
      'outbox_n AS (SELECT key, count(*)::bigint AS n FROM outbox_v GROUP BY key)',
      `outbox_s AS (
        INSERT INTO ${sequences} (key, last_sequence) SELECT key, n FROM outbox_n ORDER BY key
        ON CONFLICT (key) DO UPDATE SET last_sequence = ${sequences}.last_sequence + EXCLUDED.last_sequence
        RETURNING key, last_sequence
      )`,
      `outbox_k AS (
        INSERT INTO ${outbox} (id, key, sequence, unkeyed, channel, type, headers, body)
        SELECT v.id, v.key, s.last_sequence - c.n + v.ord, false, v.channel, v.type, v.headers, v.body
        FROM outbox_v v JOIN outbox_s s USING (key) JOIN outbox_n c USING (key)
        RETURNING sequence${notify}
      )`,
    );
    counted.push('(SELECT count(*) FROM outbox_k)');
  }
  if (unkeyed.id.length > 0) {
    // Its own key, no counter row (that would grow by one row per event): sequence 1.
    ctes.push(
      `outbox_u AS (
        INSERT INTO ${outbox} (id, key, sequence, unkeyed, channel, type, headers, body)
        SELECT e.id, e.key, 1, true, e.channel, e.type, e.headers, e.body
        FROM ${rows(unkeyed)}${where}
        RETURNING sequence${notify}
      )`,
    );
    counted.push('(SELECT count(*) FROM outbox_u)');
  }
  if (ctes.length === 0) return undefined;
  return { ctes: ctes.join(',\n'), values, inserted: counted.join(' + ') };
}

function columns() {
  return {
    tag: [] as number[],
    id: [] as string[],
    key: [] as string[],
    channel: [] as string[],
    type: [] as string[],
    headers: [] as string[],
    body: [] as Buffer[],
  };
}
