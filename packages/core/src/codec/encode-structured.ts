import type { EventEnvelope } from '../envelope/event-envelope';
import { formatSequence } from './attributes';
import { assertWithinLimit, jsonBody } from './json-body';
import { type HeaderNames, STRUCTURED_CONTENT_TYPE, type WireMessage } from './wire-message';

/**
 * Envelope -> wire message in CloudEvents structured content mode: the event
 * (attributes and `data`) as one JSON document in the body, its content type
 * the only header, `partitionkey` as the key. Attribute values are the strings
 * binary mode writes (`dataversion` "2", `sequence` zero-padded), so both modes
 * decode to the same envelope.
 */
export function encodeStructured(
  envelope: EventEnvelope,
  names: HeaderNames,
  limit: number,
): WireMessage {
  // Assigned in a fixed order onto a literal: one hidden class for every event,
  // and the document reads like the CloudEvents JSON format's examples.
  const event: Record<string, unknown> = {};
  event.specversion = envelope.specversion;
  event.id = envelope.id;
  event.source = envelope.source;
  event.type = envelope.type;
  if (envelope.time !== undefined) event.time = envelope.time;
  if (envelope.subject !== undefined) event.subject = envelope.subject;
  event.datacontenttype = envelope.datacontenttype;
  event.dataversion = String(envelope.dataversion);
  event.correlationid = envelope.correlationid;
  if (envelope.causationid !== undefined) event.causationid = envelope.causationid;
  if (envelope.partitionkey !== undefined) event.partitionkey = envelope.partitionkey;
  if (envelope.traceparent !== undefined) event.traceparent = envelope.traceparent;
  if (envelope.tracestate !== undefined) event.tracestate = envelope.tracestate;
  if (envelope.sequence !== undefined) event.sequence = formatSequence(envelope.sequence);
  // Binary mode writes undefined data as `null`: the same here, not a missing member.
  event.data = envelope.data === undefined ? null : envelope.data;
  const headers: Record<string, string> = {};
  headers[names.contentType] = STRUCTURED_CONTENT_TYPE;
  const message: WireMessage = {
    key: envelope.partitionkey,
    headers,
    body: jsonBody(event, envelope),
  };
  assertWithinLimit(
    message,
    names.contentType.length + STRUCTURED_CONTENT_TYPE.length,
    limit,
    envelope,
  );
  return message;
}
