import { createTraceState, TraceFlags } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { readTraceContext, writeTraceContext } from './trace-context';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('W3C trace context in envelopes', () => {
  it('reads traceparent and tracestate as a remote span context', () => {
    expect(readTraceContext(`00-${TRACE}-${SPAN}-01`, 'a=1,b=2')).toMatchObject({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    expect(readTraceContext(`00-${TRACE}-${SPAN}-01`, 'a=1,b=2')?.traceState?.get('b')).toBe('2');
    const unsampled = readTraceContext(` 00-${TRACE}-${SPAN}-00 `, ' ');
    expect(unsampled).toMatchObject({ traceFlags: TraceFlags.NONE });
    expect(unsampled).not.toHaveProperty('traceState');
    // A later version may append fields.
    expect(readTraceContext(`01-${TRACE}-${SPAN}-01-more`, undefined)?.spanId).toBe(SPAN);
  });

  it.each([
    ['absent', undefined],
    ['not a traceparent', 'nope'],
    ['upper case', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['version 00 with more fields', `00-${TRACE}-${SPAN}-01-more`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['an all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
  ])('ignores %s', (_case, traceparent) => {
    expect(readTraceContext(traceparent, undefined)).toBeUndefined();
  });

  it('writes version 00 and leaves tracestate out when empty', () => {
    expect(
      writeTraceContext({ traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED }),
    ).toEqual({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: undefined });
    expect(
      writeTraceContext({
        traceId: TRACE,
        spanId: SPAN,
        traceFlags: TraceFlags.NONE,
        traceState: createTraceState('v=x'),
      }),
    ).toEqual({ traceparent: `00-${TRACE}-${SPAN}-00`, tracestate: 'v=x' });
    expect(
      writeTraceContext({
        traceId: TRACE,
        spanId: SPAN,
        traceFlags: TraceFlags.NONE,
        traceState: createTraceState(''),
      }).tracestate,
    ).toBeUndefined();
  });
});
