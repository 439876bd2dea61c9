/**
 * The pieces of @edakit/outbox's Redis outbox this store builds on: its relay
 * side (RedisOutboxStore), its entry format (the append script, run inside the
 * saga's own transition script) and its client checks.
 *
 * TEMPORARY relative import: @edakit/outbox does not export its Redis module
 * from its entry point yet. Once it exports `./redis` (plus APPEND_LUA), this
 * file becomes `export { ... } from '@edakit/outbox'` and nothing else changes.
 */
export {
  assertFailFastClient,
  assertNoEviction,
  type EvictionPolicyReader,
  failFastRedisOptions,
  RedisOutboxStore,
  type RedisOutboxStoreOptions,
} from '../../../outbox/src/redis/index';
export { APPEND_LUA } from '../../../outbox/src/redis/outbox-write-script';
