/** W3C `traceparent`: version, trace id, parent (span) id, flags; later versions may append fields. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** A valid `traceparent`'s fields. */
export interface Traceparent {
  readonly traceId: string;
  readonly spanId: string;
  /** The flags byte, two hex digits (`01`: sampled). */
  readonly flags: string;
}

/**
 * Reads a `traceparent` as W3C Trace Context defines it: undefined for a
 * malformed one, version `ff`, a version-00 value with more than four
 * fields, or an all-zero trace or parent id. The one check for what edakit
 * writes (envelopes) and reads (logs, tracing), so all agree on which trace
 * an event belongs to; readers trim what came over the wire first.
 */
export function parseTraceparent(value: string | undefined): Traceparent | undefined {
  if (value === undefined) return undefined;
  const match = TRACEPARENT.exec(value);
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, flags };
}
