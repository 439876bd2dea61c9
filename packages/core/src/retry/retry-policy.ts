import { InvalidOptionsError } from '../errors/usage-errors';

/** Delays computed by exponential backoff with jitter and a cap. */
export interface BackoffOptions {
  /** How many delayed retries before the dead-letter queue. */
  readonly retries: number;
  readonly initialDelayMs: number;
  /** Growth per retry; default 2. */
  readonly multiplier?: number;
  /** Cap on one delay; default 5 minutes. */
  readonly maxDelayMs?: number;
  /** Randomises each delay by up to ±jitter (0 to 1); default 0.2. */
  readonly jitter?: number;
}

export interface RetryOptions {
  /** Extra attempts made at once, in-process, before any delayed retry. Default 2. */
  readonly immediate?: number;
  /** Delayed retries: explicit delays in ms, or a backoff. Default 3 retries from 1 s. */
  readonly delayed?: readonly number[] | BackoffOptions;
}

/** A resolved, validated policy. */
export interface RetryPolicy {
  /** Handler attempts per delivery (1 + immediate). */
  readonly attemptsPerDelivery: number;
  readonly maxRetries: number;
  /** Delay before delayed retry number `retry` (1-based). */
  delayFor(retry: number): number;
}

const DEFAULT_BACKOFF: BackoffOptions = { retries: 3, initialDelayMs: 1000 };

export function resolveRetryPolicy(
  options: RetryOptions = {},
  random: () => number = Math.random,
): RetryPolicy {
  const immediate = options.immediate ?? 2;
  assertCount('retry.immediate', immediate);
  const delayed = options.delayed ?? DEFAULT_BACKOFF;
  if (isDelayList(delayed)) {
    const delays = [...delayed];
    for (const [index, delay] of delays.entries()) assertDelay(`retry.delayed[${index}]`, delay);
    return {
      attemptsPerDelivery: 1 + immediate,
      maxRetries: delays.length,
      delayFor: (retry) => delays[Math.min(retry, delays.length) - 1] ?? 0,
    };
  }
  const { retries, initialDelayMs } = delayed;
  const multiplier = delayed.multiplier ?? 2;
  const maxDelayMs = delayed.maxDelayMs ?? 300_000;
  const jitter = delayed.jitter ?? 0.2;
  assertCount('retry.delayed.retries', retries);
  assertDelay('retry.delayed.initialDelayMs', initialDelayMs);
  assertDelay('retry.delayed.maxDelayMs', maxDelayMs);
  if (!(multiplier >= 1)) {
    throw new InvalidOptionsError(`retry.delayed.multiplier must be >= 1, got ${multiplier}`);
  }
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new InvalidOptionsError(`retry.delayed.jitter must be between 0 and 1, got ${jitter}`);
  }
  return {
    attemptsPerDelivery: 1 + immediate,
    maxRetries: retries,
    delayFor(retry) {
      const base = Math.min(maxDelayMs, initialDelayMs * multiplier ** (retry - 1));
      const spread = base * jitter * (random() * 2 - 1);
      return Math.max(0, Math.round(Math.min(maxDelayMs, base + spread)));
    },
  };
}

function isDelayList(value: RetryOptions['delayed']): value is readonly number[] {
  return Array.isArray(value);
}

function assertCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidOptionsError(`${name} must be a non-negative integer, got ${value}`);
  }
}

function assertDelay(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidOptionsError(`${name} must be a non-negative number of ms, got ${value}`);
  }
}
