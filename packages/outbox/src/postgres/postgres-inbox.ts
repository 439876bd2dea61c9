import {
  type AnyEventContract,
  type ConsumedEvent,
  type EventData,
  type EventEnvelope,
  type EventInput,
  type HandlerBinding,
  type HandlerBindingOptions,
  type HandlerContext,
  InvalidOptionsError,
  type PublishOptions,
} from '@edakit/core';
import type { Queryable } from './migration';
import { outboxTables } from './outbox-tables';
import type { PostgresOutbox } from './postgres-outbox';
import type { PoolLike } from './postgres-outbox-store';
import { inTransaction } from './transaction';

/** What an inbox handler gets on top of core's context. */
export interface InboxContext extends HandlerContext {
  /** The transaction the inbox row lives in: do the handler's writes through it. */
  readonly client: Queryable;
  /**
   * Adds an event to the outbox in this same transaction (correlation and
   * causation carried forward, like `publish`); it goes out after the commit.
   * Only when the inbox was created with an `outbox`.
   */
  readonly emit: <C extends AnyEventContract>(
    contract: C,
    data: EventInput<C>,
    options?: PublishOptions,
  ) => Promise<EventEnvelope<EventData<C>, C['type']>>;
}

export type InboxHandler<C extends AnyEventContract> = (
  event: ConsumedEvent<C>,
  context: InboxContext,
) => unknown;

export interface PostgresInboxOptions {
  readonly pool: PoolLike;
  /** Default `edakit_inbox`, optionally schema-qualified. */
  readonly table?: string;
  /** Where `context.emit` writes; its relays are woken after each commit. */
  readonly outbox?: PostgresOutbox;
}

export interface PostgresInbox {
  readonly table: string;
  migrate(): Promise<void>;
  /**
   * Binds a handler like core's `on`, inside a transaction that first records
   * `(consumer, event id)`: a duplicate is acknowledged without running the
   * handler, and a throw rolls the record back with the handler's writes, so
   * the retry runs the handler again. A concurrent duplicate waits on the
   * first delivery's row until that one commits or rolls back.
   */
  on<C extends AnyEventContract>(
    contract: C,
    handler: InboxHandler<C>,
    options?: HandlerBindingOptions,
  ): HandlerBinding<C>;
  /** Deletes records older than `olderThanMs`, at most `limit`; keep them longer than any redelivery. */
  prune(olderThanMs: number, limit?: number): Promise<number>;
}

/** SQL of the inbox table, for teams that run their own migrations. */
export function inboxMigrationSql(table = 'edakit_inbox'): string {
  const name = outboxTables(table).outbox;
  const bare = name.slice(name.lastIndexOf('.') + 1);
  return `
CREATE TABLE IF NOT EXISTS ${name} (
  consumer     text        NOT NULL,
  event_id     text        NOT NULL,
  event_type   text        NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
CREATE INDEX IF NOT EXISTS ${bare}_received ON ${name} (received_at);
`;
}

export function createPostgresInbox(options: PostgresInboxOptions): PostgresInbox {
  const table = outboxTables(options.table ?? 'edakit_inbox').outbox;
  const { pool, outbox } = options;

  const on = <C extends AnyEventContract>(
    contract: C,
    handler: InboxHandler<C>,
    bindingOptions: HandlerBindingOptions = {},
  ): HandlerBinding<C> => ({
    contract,
    name: bindingOptions.name,
    async handle(event, context) {
      let emitted = false;
      await inTransaction(pool, async (client) => {
        // Handler names default to `<group>/<type>`; a custom name gets its group prefixed.
        const consumer = context.handler.startsWith(`${context.group}/`)
          ? context.handler
          : `${context.group}/${context.handler}`;
        const recorded = await client.query(
          `INSERT INTO ${table} (consumer, event_id, event_type) VALUES ($1, $2, $3)
           ON CONFLICT (consumer, event_id) DO NOTHING`,
          [consumer, event.id, event.type],
        );
        if (recorded.rowCount === 0) {
          context.logger.debug(
            { eventId: event.id, eventType: event.type, consumer },
            'inbox: duplicate delivery acknowledged without running the handler',
          );
          return;
        }
        const emit: InboxContext['emit'] = (next, data, publishOptions) => {
          if (outbox === undefined) {
            throw new InvalidOptionsError(
              'context.emit needs createPostgresInbox({ outbox }) to know where events go',
              { option: 'outbox', eventType: event.type, eventId: event.id },
            );
          }
          emitted = true;
          return outbox.add(client, next, data, {
            correlationId: event.correlationid,
            causationId: event.id,
            ...publishOptions,
          });
        };
        await handler(event, { ...context, client, emit });
      });
      if (emitted) outbox?.commits.emit();
    },
  });

  return {
    table,
    migrate: () => pool.query(inboxMigrationSql(options.table)).then(() => undefined),
    on,
    async prune(olderThanMs, limit = 5000) {
      const result = await pool.query(
        `DELETE FROM ${table} WHERE ctid IN (
           SELECT ctid FROM ${table}
           WHERE received_at < now() - make_interval(secs => $1::double precision / 1000) LIMIT $2)`,
        [olderThanMs, limit],
      );
      return result.rowCount ?? 0;
    },
  };
}
