import type { EventEnvelope } from '../envelope/event-envelope';
import { PayloadTooLargeError, ValidationError } from '../errors/decode-errors';
import { DEFAULT_MAX_MESSAGE_BYTES, formatSequence } from './attributes';
import {
  defaultHeaderNaming,
  type HeaderNaming,
  headerNamesOf,
  type WireMessage,
  wireSize,
} from './wire-message';

export interface EncodeOptions {
  readonly naming?: HeaderNaming;
  /** Largest message accepted, body plus headers. Default 1 MiB. */
  readonly maxBytes?: number;
}

/**
 * Envelope -> wire message in CloudEvents binary content mode: attributes in
 * headers, `data` as the JSON body, `partitionkey` as the key.
 */
export function encodeEnvelope(envelope: EventEnvelope, options: EncodeOptions = {}): WireMessage {
  const names = headerNamesOf(options.naming ?? defaultHeaderNaming);
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
  let json: string;
  try {
    json = JSON.stringify(envelope.data) ?? 'null';
  } catch (error) {
    // BigInt, cycles: schemas must describe JSON data (see docs/errors.md).
    throw new ValidationError(
      [
        {
          path: '',
          message: `data cannot be encoded as JSON: ${(error as Error).message}`,
          code: 'not_json',
        },
      ],
      { eventType: envelope.type, eventId: envelope.id },
    );
  }
  const body = Buffer.from(json, 'utf8');
  const message: WireMessage = { key: envelope.partitionkey, headers, body };

  const limit = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  // A UTF-16 code unit is at most 3 UTF-8 bytes: the exact count only near the limit.
  if (body.byteLength + 3 * chars > limit) {
    const size = wireSize(message);
    if (size > limit) {
      throw new PayloadTooLargeError(size, limit, {
        eventType: envelope.type,
        eventId: envelope.id,
      });
    }
  }
  return message;
}

function lengthOf(value: string | undefined): number {
  return typeof value === 'string' ? value.length : 0;
}
