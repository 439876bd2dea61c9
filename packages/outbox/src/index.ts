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
