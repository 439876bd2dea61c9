import { InvalidOptionsError } from '@edakit/core';

export interface RelayRetryOptions {
  /** Attempts per row before it is marked dead (default 10). */
  readonly maxAttempts?: number;
  /** Delay after the first failure; doubles per attempt (default 1 s). */
  readonly initialDelayMs?: number;
  /** Cap of the delay (default 5 min). */
  readonly maxDelayMs?: number;
}

/** When a row that failed `attempts` times in all is tried next; undefined: it is dead. */
export type RetrySchedule = (attempts: number, now: number) => Date | undefined;

export function retrySchedule(options: RelayRetryOptions = {}): RetrySchedule {
  const maxAttempts = options.maxAttempts ?? 10;
  const initial = options.initialDelayMs ?? 1000;
  const cap = options.maxDelayMs ?? 300_000;
  for (const [name, value] of Object.entries({
    maxAttempts,
    initialDelayMs: initial,
    maxDelayMs: cap,
  })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new InvalidOptionsError(
        `relay retry.${name} must be a positive integer, got ${value}`,
        {
          option: `retry.${name}`,
          value,
        },
      );
    }
  }
  return (attempts, now) => {
    if (attempts >= maxAttempts) return undefined;
    const delay = Math.min(cap, initial * 2 ** Math.min(30, attempts - 1));
    return new Date(now + delay);
  };
}
