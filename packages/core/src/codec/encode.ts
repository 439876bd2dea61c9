import type { EventEnvelope } from '../envelope/event-envelope';
import { DEFAULT_MAX_MESSAGE_BYTES, formatSequence } from './attributes';
import { encodeStructured } from './encode-structured';
import { assertWithinLimit, jsonBody } from './json-body';
import {
  type ContentMode,
  defaultHeaderNaming,
  type HeaderNaming,
  headerNamesOf,
  resolveContentMode,
  type WireMessage,
} from './wire-message';

export interface EncodeOptions {
  readonly naming?: HeaderNaming;
  /** Largest message accepted, body plus headers. Default 1 MiB. */
  readonly maxBytes?: number;
  /** `binary` (default): attributes in headers; `structured`: one JSON document. */
  readonly contentMode?: ContentMode;
}

/**
 * Envelope -> wire message, `partitionkey` as the key. CloudEvents binary
 * content mode by default: attributes in headers, `data` as the JSON body.
 * Structured mode: the whole event as one JSON document (see encodeStructured).
 */
export function encodeEnvelope(envelope: EventEnvelope, options: EncodeOptions = {}): WireMessage {
  const names = headerNamesOf(options.naming ?? defaultHeaderNaming);
  const limit = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (resolveContentMode(options.contentMode, 'encodeEnvelope') === 'structured') {
    return encodeStructured(envelope, names, limit);
  }
  const dataversion = String(envelope.dataversion);
  // Assigned one by one onto a literal: every message gets the same hidden
  // class, and the size bound is counted on the way instead of in a second pass.
  const headers: Record<string, string> = {};
  headers[names.specversion] = envelope.specversion;
  headers[names.id] = envelope.id;
  headers[names.source] = envelope.source;
  headers[names.type] = envelope.type;
  headers[names.dataversion] = dataversion;
  headers[names.correlationid] = envelope.correlationid;
  headers[names.contentType] = envelope.datacontenttype;
  // Header names and values in UTF-16 units; values are read defensively, as
  // encodeEnvelope is public and its callers may hand it a loosely built envelope.
  let chars =
    names.specversion.length +
    names.id.length +
    names.source.length +
    names.type.length +
    names.dataversion.length +
    names.correlationid.length +
    names.contentType.length +
    lengthOf(envelope.specversion) +
    lengthOf(envelope.id) +
    lengthOf(envelope.source) +
    lengthOf(envelope.type) +
    dataversion.length +
    lengthOf(envelope.correlationid) +
    lengthOf(envelope.datacontenttype);
  if (envelope.time !== undefined) {
    headers[names.time] = envelope.time;
    chars += names.time.length + lengthOf(envelope.time);
  }
  if (envelope.subject !== undefined) {
    headers[names.subject] = envelope.subject;
    chars += names.subject.length + lengthOf(envelope.subject);
  }
  if (envelope.causationid !== undefined) {
    headers[names.causationid] = envelope.causationid;
    chars += names.causationid.length + lengthOf(envelope.causationid);
  }
  if (envelope.partitionkey !== undefined) {
    headers[names.partitionkey] = envelope.partitionkey;
    chars += names.partitionkey.length + lengthOf(envelope.partitionkey);
  }
  if (envelope.traceparent !== undefined) {
    headers[names.traceparent] = envelope.traceparent;
    chars += names.traceparent.length + lengthOf(envelope.traceparent);
  }
  if (envelope.tracestate !== undefined) {
    headers[names.tracestate] = envelope.tracestate;
    chars += names.tracestate.length + lengthOf(envelope.tracestate);
  }
  if (envelope.sequence !== undefined) {
    const sequence = formatSequence(envelope.sequence);
    headers[names.sequence] = sequence;
    chars += names.sequence.length + sequence.length;
  }
  const body = jsonBody(envelope.data, envelope);
  const message: WireMessage = { key: envelope.partitionkey, headers, body };
  assertWithinLimit(message, chars, limit, envelope);
  return message;
}

function lengthOf(value: string | undefined): number {
  return typeof value === 'string' ? value.length : 0;
}
