/** Exponential backoff with ±20 % jitter: attempt 1 waits about `initialMs`. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(0, attempt - 1), 20));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects with `onTimeout()` if `promise` has not settled within `ms`. */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Waits for a broker round trip (channel close, cancel) at most `ms`, never
 * rejecting: a broker that stopped answering must not hang a stop or close.
 */
export async function settleWithin(promise: Promise<unknown>, ms = 2_000): Promise<void> {
  await withTimeout(promise, ms, () => new Error('timed out')).catch(() => undefined);
}
