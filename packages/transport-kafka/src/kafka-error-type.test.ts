import { describe, expect, it } from 'vitest';
import { hasKafkaErrorType } from './kafka-error-type';

const FATAL = new Set(['UNKNOWN_PRODUCER_ID']);

describe('hasKafkaErrorType', () => {
  it('finds the type on the error or down its cause chain', () => {
    const protocol = Object.assign(new Error('unknown producer'), { type: 'UNKNOWN_PRODUCER_ID' });
    expect(hasKafkaErrorType(protocol, FATAL)).toBe(true);
    const retries = new Error('retries exceeded', {
      cause: new Error('wrapped', { cause: protocol }),
    });
    expect(hasKafkaErrorType(retries, FATAL)).toBe(true);
  });

  it('is false for other types, plain values and errors without a type', () => {
    const other = Object.assign(new Error('x'), { type: 'REQUEST_TIMED_OUT' });
    expect(hasKafkaErrorType(other, FATAL)).toBe(false);
    expect(hasKafkaErrorType(new Error('plain'), FATAL)).toBe(false);
    expect(hasKafkaErrorType(undefined, FATAL)).toBe(false);
    expect(hasKafkaErrorType('UNKNOWN_PRODUCER_ID', FATAL)).toBe(false);
  });

  it('ends on a cause cycle', () => {
    const looped: Error & { cause?: unknown } = new Error('loop');
    looped.cause = looped;
    expect(hasKafkaErrorType(looped, FATAL)).toBe(false);
  });
});
