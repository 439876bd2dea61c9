import { InvalidOptionsError, type PreparedEvent } from '@edakit/core';
import type { ChainableCommander } from 'ioredis';
import { DEFAULT_OUTBOX_PREFIX, type OutboxKeys, outboxKeys } from './outbox-keys';
import { APPEND_LUA, appendArguments } from './outbox-write-script';
import { assertNoClientKeyPrefix } from './redis-client';

export interface RedisOutboxOptions {
  /** Prefix of every outbox key; the relay's RedisOutboxStore must use the same. Default `edakit:outbox:`. */
  readonly prefix?: string;
}

/**
 * The write side of a Redis outbox: puts events in the same MULTI as the state
 * change that caused them, so both are written or neither.
 *
 * @example
 * const multi = redis.multi();
 * multi.hset(`order:${id}`, 'status', 'placed');
 * outbox.add(multi, bus.prepare(OrderPlaced, { orderId: id }, { partitionKey: id }));
 * await multi.exec(); // null when a WATCHed key changed: then nothing was written
 *
 * What MULTI guarantees: a transaction aborted before EXEC (DISCARD, a WATCHed
 * key changed, a command refused while queuing: EXECABORT) writes nothing. It
 * has no rollback: a command of yours that fails while executing (WRONGTYPE)
 * leaves the others, this event included, written. For compare-and-set use
 * WATCH on a connection of its own (WATCH state is per connection, and ioredis
 * multiplexes one connection between callers).
 *
 * The writer checks nothing on the server: RedisOutboxStore.open, on the same
 * server, refuses to relay unless maxmemory-policy is noeviction.
 */
export class RedisOutbox {
  private readonly keys: OutboxKeys;

  constructor(options: RedisOutboxOptions = {}) {
    this.keys = outboxKeys(options.prefix ?? DEFAULT_OUTBOX_PREFIX);
  }

  /**
   * Queues the events on `multi` (from `client.multi()`, not a plain
   * pipeline); EXEC writes them. Each gets the next sequence of its partition
   * key; an event without a key is ordered by nothing and keyed by its id.
   */
  add(multi: ChainableCommander, ...events: readonly PreparedEvent[]): ChainableCommander {
    assertTransaction(multi);
    for (const event of events) {
      multi.eval(APPEND_LUA, 2, this.keys.log, this.keys.sequences, ...appendArguments(event));
    }
    return multi;
  }
}

/**
 * A plain pipeline is not atomic: the event could be written without the
 * state change or the other way round. ioredis queues MULTI as the first
 * command of a transaction; this reads that private queue (and the client's
 * options, for a keyPrefix) when they exist.
 */
function assertTransaction(multi: ChainableCommander): void {
  if (typeof multi !== 'object' || multi === null || typeof multi.eval !== 'function') {
    throw new InvalidOptionsError('RedisOutbox.add needs an ioredis MULTI (client.multi())');
  }
  const internals = multi as unknown as {
    _queue?: ReadonlyArray<{ name?: string }>;
    options?: { keyPrefix?: string };
  };
  assertNoClientKeyPrefix(internals.options?.keyPrefix, 'RedisOutbox.add');
  const queue = internals._queue;
  if (Array.isArray(queue) && queue[0]?.name !== 'multi') {
    throw new InvalidOptionsError(
      'RedisOutbox.add needs a MULTI transaction (client.multi()), not a pipeline: a pipeline could write the event without the state change',
    );
  }
}
