/** `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, later versions may append fields. */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})/;
const INVALID_TRACE_ID = '0'.repeat(32);

/** The log fields that tie a line to a trace, named as OpenTelemetry names them in non-OTLP logs. */
export interface TraceLogFields {
  readonly trace_id: string;
  readonly trace_flags: string;
}

/**
 * The trace an event belongs to, read from its `traceparent`, as log fields:
 * a log backend joins the line to the trace by `trace_id`. Undefined when the
 * event carries no valid trace context. Needs no tracer: the id is the one
 * the producer wrote.
 */
export function traceLogFields(traceparent: string | undefined): TraceLogFields | undefined {
  if (traceparent === undefined) return undefined;
  const match = TRACEPARENT.exec(traceparent);
  if (match === null) return undefined;
  const [, traceId, flags] = match as unknown as [string, string, string];
  if (traceId === INVALID_TRACE_ID) return undefined;
  return { trace_id: traceId, trace_flags: flags };
}
