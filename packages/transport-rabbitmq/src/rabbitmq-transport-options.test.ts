import { ErrorCodes } from '@edakit/core';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from './rabbitmq-transport-options';

describe('resolveOptions', () => {
  it('applies the defaults', () => {
    expect(resolveOptions({ url: 'amqp://localhost' })).toMatchObject({
      exchange: 'edakit.events',
      alternateExchange: 'edakit.events.unroutable',
      queueType: 'quorum',
      retryTiersMs: [1_000, 10_000, 60_000, 600_000],
      unroutable: 'alternate',
      publishTimeoutMs: 10_000,
      maxInFlight: 1_000,
    });
  });

  it('sorts the retry tiers', () => {
    expect(resolveOptions({ url: 'amqp://x', retryTiersMs: [5_000, 200] }).retryTiersMs).toEqual([
      200, 5_000,
    ]);
  });

  it.each([
    [{ retryTiersMs: [] }],
    [{ retryTiersMs: [0] }],
    [{ queueType: 'stream' as never }],
    [{ deliveryLimit: 5, queueType: 'classic' as const }],
    [{ publishTimeoutMs: 0 }],
    [{ exchange: 'bad name' }],
    [{ unroutable: 'drop' as never }],
  ])('rejects %o with EDAKIT_INVALID_OPTIONS', (extra) => {
    expect(() => resolveOptions({ url: 'amqp://x', ...extra })).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTIONS }),
    );
  });

  it('rejects a missing url', () => {
    expect(() => resolveOptions({} as never)).toThrow(/needs a url/);
  });

  it('bounds the waiting publishes by default, and only by a positive integer', () => {
    expect(resolveOptions({ url: 'amqp://x' }).maxQueued).toBe(10_000);
    expect(resolveOptions({ url: 'amqp://x', maxQueued: 50 }).maxQueued).toBe(50);
    for (const maxQueued of [0, -1, 1.5, Number.POSITIVE_INFINITY]) {
      expect(() => resolveOptions({ url: 'amqp://x', maxQueued })).toThrow(/maxQueued/);
    }
  });
});
