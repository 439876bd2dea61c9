import { createTraceState, isSpanContextValid, type SpanContext } from '@opentelemetry/api';

/** W3C `traceparent`: version, trace id, parent (span) id, flags; later versions may append fields. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The span context an envelope carries (W3C Trace Context: `traceparent` and
 * `tracestate`), as a remote parent; undefined when it carries none or an
 * invalid one.
 */
export function readTraceContext(
  traceparent: string | undefined,
  tracestate: string | undefined,
): SpanContext | undefined {
  if (traceparent === undefined) return undefined;
  const match = TRACEPARENT.exec(traceparent.trim());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  // ff is forbidden; version 00 has exactly four fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16),
    isRemote: true,
    ...(tracestate === undefined || tracestate.trim() === ''
      ? {}
      : { traceState: createTraceState(tracestate) }),
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** A span context as the envelope's `traceparent` (version 00) and `tracestate`. */
export function writeTraceContext(spanContext: SpanContext): {
  traceparent: string;
  tracestate: string | undefined;
} {
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  const tracestate = spanContext.traceState?.serialize();
  return {
    traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`,
    tracestate: tracestate === undefined || tracestate === '' ? undefined : tracestate,
  };
}
