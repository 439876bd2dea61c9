import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../errors/error-codes';
import { resolveRetryPolicy } from './retry-policy';

describe('resolveRetryPolicy', () => {
  it('defaults to 2 immediate attempts and 3 delayed retries from 1 s', () => {
    const policy = resolveRetryPolicy({}, () => 0.5);
    expect(policy.attemptsPerDelivery).toBe(3);
    expect(policy.maxRetries).toBe(3);
    expect([1, 2, 3].map((retry) => policy.delayFor(retry))).toEqual([1000, 2000, 4000]);
  });

  it('uses an explicit delay list', () => {
    const policy = resolveRetryPolicy({ immediate: 0, delayed: [10, 50, 250] });
    expect(policy.attemptsPerDelivery).toBe(1);
    expect(policy.maxRetries).toBe(3);
    expect([1, 2, 3].map((retry) => policy.delayFor(retry))).toEqual([10, 50, 250]);
  });

  it('caps exponential backoff and keeps jitter within its bounds', () => {
    const low = resolveRetryPolicy(
      {
        delayed: { retries: 10, initialDelayMs: 100, multiplier: 3, maxDelayMs: 1000, jitter: 0.5 },
      },
      () => 0,
    );
    const high = resolveRetryPolicy(
      {
        delayed: { retries: 10, initialDelayMs: 100, multiplier: 3, maxDelayMs: 1000, jitter: 0.5 },
      },
      () => 0.999_999,
    );
    expect(low.delayFor(1)).toBe(50);
    expect(high.delayFor(1)).toBe(150);
    expect(low.delayFor(2)).toBe(150);
    for (let retry = 1; retry <= 10; retry++) {
      expect(high.delayFor(retry)).toBeLessThanOrEqual(1000);
      expect(low.delayFor(retry)).toBeGreaterThanOrEqual(0);
    }
    expect(low.delayFor(10)).toBe(500);
  });

  it.each([
    [{ immediate: 1.5 }, /immediate/],
    [{ delayed: [10, -1] }, /delayed\[1\]/],
    [{ delayed: { retries: -1, initialDelayMs: 1 } }, /retries/],
    [{ delayed: { retries: 1, initialDelayMs: Number.NaN } }, /initialDelayMs/],
    [{ delayed: { retries: 1, initialDelayMs: 1, multiplier: 0.5 } }, /multiplier/],
    [{ delayed: { retries: 1, initialDelayMs: 1, jitter: 2 } }, /jitter/],
  ])('rejects %j with EDAKIT_INVALID_OPTIONS', (options, message) => {
    expect(() => resolveRetryPolicy(options)).toThrowError(message);
    expect(() => resolveRetryPolicy(options)).toThrowError(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTIONS }),
    );
  });
});
