/**
 * The pieces of @edakit/outbox's Redis outbox this store builds on: its relay
 * side (RedisOutboxStore), its entry format (the append script, run inside the
 * saga's own scripts when commands go to the outbox) and its client checks.
 */
export {
  APPEND_LUA,
  appendArguments,
  assertFailFastClient,
  assertNoEviction,
  type EvictionPolicyReader,
  failFastRedisOptions,
  RedisOutboxStore,
  type RedisOutboxStoreOptions,
  RedisScript,
  type ScriptArgument,
  untilReady,
} from '@edakit/outbox/redis';
