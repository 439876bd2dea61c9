import { describe, expect, it } from 'vitest';
import { traceLogFields } from './trace-fields';

describe('traceLogFields', () => {
  it('reads the trace id and flags of a traceparent', () => {
    expect(traceLogFields('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')).toEqual({
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      trace_flags: '00',
    });
  });

  it('gives nothing for no, a malformed or an all-zero trace context', () => {
    expect(traceLogFields(undefined)).toBeUndefined();
    expect(traceLogFields('not-a-traceparent')).toBeUndefined();
    expect(
      traceLogFields('00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'),
    ).toBeUndefined();
    expect(traceLogFields(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBeUndefined();
    // As a tracer reads it: version ff, a version-00 value with more fields, a zero parent id.
    expect(
      traceLogFields('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'),
    ).toBeUndefined();
    expect(
      traceLogFields('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra'),
    ).toBeUndefined();
    expect(
      traceLogFields(`00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`),
    ).toBeUndefined();
    // A later version may append fields.
    expect(
      traceLogFields('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra')?.trace_id,
    ).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
});
