import { describe, expect, it } from 'vitest';
import { readDeadLetterInfo } from '../dead-letter/dead-letter-info';
import { FailureHeaders } from '../dead-letter/failure-headers';
import { ErrorCodes } from '../errors/error-codes';
import { NonRetryableError } from '../errors/handling-errors';
import type { Delivery } from '../transport/transport';
import { decideFailure, describeFailure } from './failure-outcome';
import { resolveRetryPolicy } from './retry-policy';

const delivery = (headers: Record<string, string> = {}): Delivery => ({
  message: { key: 'k', headers: { ce_id: 'e-1', ...headers }, body: new Uint8Array() },
  channel: 'order',
  origin: 'order/billing',
});
const policy = resolveRetryPolicy({ immediate: 1, delayed: [100, 200] });
const base = { group: 'billing', handler: 'billing/order.created', attempts: 2, policy };

describe('decideFailure', () => {
  it('schedules the first delayed retry and records the history in headers', () => {
    const now = new Date('2026-01-01T00:00:00.000Z');
    const outcome = decideFailure(new Error('db down'), { ...base, delivery: delivery(), now });
    expect(outcome).toEqual({
      type: 'retry',
      delayMs: 100,
      headers: {
        ce_id: 'e-1',
        [FailureHeaders.attempts]: '2',
        [FailureHeaders.retries]: '1',
        [FailureHeaders.errorMessage]: 'db down',
        [FailureHeaders.errorClass]: 'Error',
        [FailureHeaders.origin]: 'order/billing',
        [FailureHeaders.channel]: 'order',
        [FailureHeaders.group]: 'billing',
        [FailureHeaders.handler]: 'billing/order.created',
        [FailureHeaders.firstFailureAt]: now.toISOString(),
        [FailureHeaders.lastFailureAt]: now.toISOString(),
      },
    });
  });

  it('keeps counting across deliveries, then dead-letters when retries are exhausted', () => {
    const first = '2026-01-01T00:00:00.000Z';
    const previous = delivery({
      [FailureHeaders.attempts]: '4',
      [FailureHeaders.retries]: '2',
      [FailureHeaders.firstFailureAt]: first,
      [FailureHeaders.errorCode]: 'STALE',
    });
    const now = new Date('2026-01-01T00:00:05.000Z');
    const outcome = decideFailure(new RangeError('still down'), {
      ...base,
      delivery: previous,
      now,
    });
    expect(outcome.type).toBe('deadLetter');
    if (outcome.type !== 'deadLetter') return;
    expect(outcome.headers[FailureHeaders.errorCode]).toBeUndefined();
    expect(readDeadLetterInfo(outcome.headers)).toEqual({
      reason: ErrorCodes.RETRIES_EXHAUSTED,
      errorMessage: 'still down',
      errorClass: 'RangeError',
      errorCode: undefined,
      attempts: 6,
      retries: 2,
      origin: 'order/billing',
      channel: 'order',
      group: 'billing',
      handler: 'billing/order.created',
      firstFailureAt: first,
      lastFailureAt: now.toISOString(),
      deadLetteredAt: now.toISOString(),
      redrives: 0,
    });
  });

  it('dead-letters non-retryable errors at once with their code as the reason', () => {
    const outcome = decideFailure(new NonRetryableError('nope'), {
      ...base,
      handler: undefined,
      delivery: delivery(),
      now: new Date(),
    });
    expect(outcome.type).toBe('deadLetter');
    if (outcome.type !== 'deadLetter') return;
    expect(outcome.headers[FailureHeaders.deadLetterReason]).toBe(ErrorCodes.NON_RETRYABLE);
    expect(outcome.headers[FailureHeaders.handler]).toBeUndefined();
    expect(outcome.headers[FailureHeaders.retries]).toBe('0');
  });

  it('truncates long error messages and survives garbage counters', () => {
    const outcome = decideFailure(new Error('é'.repeat(5000)), {
      ...base,
      delivery: delivery({ [FailureHeaders.attempts]: 'lots', [FailureHeaders.retries]: '-3' }),
      now: new Date(),
    });
    expect(outcome.type).toBe('retry');
    if (outcome.type !== 'retry') return;
    // Cut at 1000 bytes (500 two-byte characters), not 1000 characters.
    expect(outcome.headers[FailureHeaders.errorMessage]).toBe(`${'é'.repeat(500)}…`);
    expect(outcome.headers[FailureHeaders.attempts]).toBe('2');
    expect(outcome.headers[FailureHeaders.retries]).toBe('1');
  });
});

describe('describeFailure', () => {
  it('normalises anything thrown', () => {
    expect(describeFailure('text')).toEqual({
      message: 'text',
      errorClass: 'string',
      retryable: true,
    });
    expect(describeFailure(42)).toEqual({ message: '42', errorClass: 'number', retryable: true });
    expect(describeFailure(undefined)).toEqual({
      message: 'undefined',
      errorClass: 'undefined',
      retryable: true,
    });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(describeFailure(circular)).toMatchObject({
      message: '[object Object]',
      errorClass: 'object',
    });
    const anonymous = new Error('m');
    anonymous.name = '';
    expect(describeFailure(anonymous).errorClass).toBe('Error');
  });
});
