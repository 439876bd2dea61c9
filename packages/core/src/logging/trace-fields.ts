import { parseTraceparent } from '../envelope/traceparent';

/** The log fields that tie a line to a trace, named as OpenTelemetry names them in non-OTLP logs. */
export interface TraceLogFields {
  readonly trace_id: string;
  readonly trace_flags: string;
}

/**
 * The trace an event belongs to, read from its `traceparent`, as log fields:
 * a log backend joins the line to the trace by `trace_id`. Undefined when the
 * event carries no valid trace context (then a tracer starts a new trace for
 * it too). Needs no tracer: the id is the one the producer wrote.
 */
export function traceLogFields(traceparent: string | undefined): TraceLogFields | undefined {
  const parsed = parseTraceparent(traceparent?.trim());
  return parsed === undefined ? undefined : { trace_id: parsed.traceId, trace_flags: parsed.flags };
}
