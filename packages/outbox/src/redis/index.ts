export {
  assertNoEviction,
  type EvictionPolicyReader,
  readMaxmemoryPolicy,
} from './eviction-policy';
export { DEFAULT_OUTBOX_PREFIX } from './outbox-keys';
/** The outbox's append step as Lua, for stores that write entries inside their own scripts (sagas). */
export { APPEND_LUA, appendArguments } from './outbox-write-script';
export { assertFailFastClient, failFastRedisOptions, untilReady } from './redis-client';
export {
  DEFAULT_IDEMPOTENCY_PREFIX,
  RedisIdempotencyStore,
  type RedisIdempotencyStoreOptions,
} from './redis-idempotency-store';
export { RedisOutbox, type RedisOutboxOptions } from './redis-outbox';
export { RedisOutboxStore, type RedisOutboxStoreOptions } from './redis-outbox-store';
/** Runs a Lua script by sha, sending it whole on NOSCRIPT: for stores built on these scripts. */
export { RedisScript, type ScriptArgument } from './redis-script';
