import { createTraceState, isSpanContextValid, type SpanContext } from '@opentelemetry/api';
import { parseTraceparent } from '../envelope/traceparent';

/**
 * The span context an envelope carries (W3C Trace Context: `traceparent` and
 * `tracestate`), as a remote parent; undefined when it carries none or an
 * invalid one.
 */
export function readTraceContext(
  traceparent: string | undefined,
  tracestate: string | undefined,
): SpanContext | undefined {
  const parsed = parseTraceparent(traceparent?.trim());
  if (parsed === undefined) return undefined;
  const spanContext: SpanContext = {
    traceId: parsed.traceId,
    spanId: parsed.spanId,
    traceFlags: Number.parseInt(parsed.flags, 16),
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
