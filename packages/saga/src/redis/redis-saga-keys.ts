import { InvalidOptionsError } from '@edakit/core';
import type { SagaStatus } from '../engine/saga-instance';

export const DEFAULT_SAGA_PREFIX = 'edakit:saga:{sagas}:';

/**
 * Where one Redis saga store keeps its state. Every name starts with the
 * prefix, whose hash tag puts all of them (instances, timers, indexes and the
 * commands' outbox) in one Redis Cluster slot: each script touches keys of
 * one slot only.
 */
export interface SagaKeys {
  readonly prefix: string;
  /**
   * HASH per instance: v (version), s (status), j (the instance as JSON),
   * and while it has leased commands pf, pl and p<version> (see
   * redis-saga-scripts.ts), x while the outbox holds some of its commands.
   */
  instance(saga: string, id: string): string;
  /** What `instance` puts before the id, for scripts that read many instances of a saga. */
  instancePrefix(saga: string): string;
  /** ZSET "<saga>:<id>" → when its timer may fire (its due time, pushed forward by claims). */
  readonly timers: string;
  /** HASH "<saga>:<id>" → token of its timer. */
  readonly timerTokens: string;
  /**
   * ZSET "<saga>:<id>" → when the lease on the commands its last write gave
   * the writing runtime to publish runs out (then they go to the outbox).
   */
  readonly sends: string;
  /**
   * ZSET per saga and status: id → +inf while running, else when its
   * tombstone expires (members past it are skipped and trimmed).
   */
  status(saga: string, status: SagaStatus): string;
  /** What `status` puts before the status. */
  statusPrefix(saga: string): string;
  /** Prefix of the commands' outbox (a RedisOutboxStore). */
  readonly outboxPrefix: string;
}

/** An instance in the timers, the timer tokens and the leases: "<saga>:<id>". */
export const timerMember = (saga: string, id: string): string => `${saga}:${id}`;

/** Saga names cannot contain ':' (see defineSaga), so the first ':' splits a member. */
export function splitTimerMember(member: string): { saga: string; id: string } {
  const at = member.indexOf(':');
  return { saga: member.slice(0, at), id: member.slice(at + 1) };
}

/** The hash tag Redis Cluster hashes a key by: the text between the first '{' and the next '}'. */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close <= open + 1) return undefined;
  return key.slice(open + 1, close);
}

export function sagaKeys(prefix: string = DEFAULT_SAGA_PREFIX): SagaKeys {
  if (typeof prefix !== 'string' || hashTagOf(prefix) === undefined) {
    throw new InvalidOptionsError(
      `RedisSagaStore prefix "${String(prefix)}" needs a hash tag, e.g. "edakit:saga:{orders}:": it keeps an instance, its timer and the commands it sends in one Redis Cluster slot, so one script can write them together`,
      { option: 'prefix', value: prefix },
    );
  }
  return {
    prefix,
    instance: (saga, id) => `${prefix}i:${saga}:${id}`,
    instancePrefix: (saga) => `${prefix}i:${saga}:`,
    timers: `${prefix}timers`,
    timerTokens: `${prefix}timer-tokens`,
    sends: `${prefix}sends`,
    status: (saga, status) => `${prefix}status:${saga}:${status}`,
    statusPrefix: (saga) => `${prefix}status:${saga}:`,
    outboxPrefix: `${prefix}outbox:`,
  };
}
