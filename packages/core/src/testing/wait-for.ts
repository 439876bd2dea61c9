import { WaitTimeoutError } from '../errors/handling-errors';

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** What is awaited, for the timeout message. */
  readonly description?: string;
}

/**
 * Polls until `check` returns a value other than undefined/false, and returns it.
 * Rejects with WaitTimeoutError (EDAKIT_WAIT_TIMEOUT) saying what was awaited.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) {
      throw new WaitTimeoutError(options.description ?? 'a condition', timeoutMs);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
