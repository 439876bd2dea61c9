export { type Clock, systemClock, VirtualClock } from './clock';
export {
  type DefineSagaOptions,
  defineSaga,
  SagaDefinition,
  type StepOptions,
} from './definition/define-saga';
export { toMermaid } from './definition/mermaid';
export {
  type ReplySpec,
  reply,
  type SagaRef,
  type SagaSettings,
  type SagaStart,
  type SendSpec,
  type StepDefinition,
  send,
  type UnexpectedEventPolicy,
} from './definition/saga-definition';
export type { SagaInstance, SagaStatus, SagaTimeout } from './engine/saga-instance';
export { SagaConflictError, UnexpectedSagaEventError, UnknownSagaVersionError } from './errors';
export { MemorySagaStore } from './memory/memory-saga-store';
export { PostgresSagaStore, type PostgresSagaStoreOptions } from './postgres/postgres-saga-store';
export { DEFAULT_SAGA_TABLE, migrateSagaTable, sagaMigrationSql } from './postgres/saga-table';
export { createSagaRuntime, type SagaRuntime, type SagaRuntimeOptions } from './runtime';
export {
  type DispatchedWrite,
  type DispatchingSagaStore,
  type DueTimeout,
  type InstanceCounts,
  isDispatchingStore,
  prunesTombstones,
  type SagaQuery,
  type SagaStore,
  type SendLease,
  type TombstonePruning,
} from './store/saga-store';
