export { CommitSignal } from './commit-signal';
export { MemoryOutbox } from './memory/memory-outbox';
export type { OutboxRecord, StuckRecord } from './outbox-record';
export type {
  ClaimOptions,
  FailedPublish,
  OutboxClaim,
  OutboxStats,
  OutboxStore,
  SettleRequest,
  SettleResult,
} from './outbox-store';
export {
  CommitListener,
  type CommitListenerOptions,
  type ListenerClient,
} from './postgres/commit-listener';
export { migrate, outboxMigrationSql, type Queryable } from './postgres/migration';
export { type OutboxTables, outboxTables } from './postgres/outbox-tables';
export {
  createPostgresInbox,
  type InboxContext,
  type InboxHandler,
  inboxMigrationSql,
  type PostgresInbox,
  type PostgresInboxOptions,
} from './postgres/postgres-inbox';
export {
  createPostgresOutbox,
  type PostgresOutbox,
  type PostgresOutboxOptions,
  preparedInsertSql,
} from './postgres/postgres-outbox';
export {
  type PooledClient,
  type PoolLike,
  PostgresOutboxStore,
} from './postgres/postgres-outbox-store';
export type { PreparedInsertOptions, PreparedInsertSql } from './postgres/prepared-insert';
export type { ClaimOutcome, Publisher } from './relay/publish-claim';
export {
  createRelay,
  type Relay,
  type RelayMetrics,
  type RelayOptions,
  type WakeSource,
} from './relay/relay';
export type { RelayRetryOptions } from './relay/retry-schedule';
