export { DEFAULT_SAGA_PREFIX, type SagaKeys } from './redis-saga-keys';
export {
  DEFAULT_SEND_LEASE_MS,
  DEFAULT_TOMBSTONE_TTL_MS,
  RedisSagaStore,
  type RedisSagaStoreOptions,
} from './redis-saga-store';
