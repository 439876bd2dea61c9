import type { EventEnvelope } from '../envelope/event-envelope';
import { PayloadTooLargeError, ValidationError } from '../errors/decode-errors';
import { DEFAULT_MAX_MESSAGE_BYTES, formatSequence } from './attributes';
import {
  defaultHeaderNaming,
  type HeaderNaming,
  surelyWithin,
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
  const naming = options.naming ?? defaultHeaderNaming;
  const prefix = naming.attributePrefix;
  const headers: Record<string, string> = {
    [`${prefix}specversion`]: envelope.specversion,
    [`${prefix}id`]: envelope.id,
    [`${prefix}source`]: envelope.source,
    [`${prefix}type`]: envelope.type,
    [`${prefix}dataversion`]: String(envelope.dataversion),
    [`${prefix}correlationid`]: envelope.correlationid,
    [naming.contentType]: envelope.datacontenttype,
  };
  if (envelope.time !== undefined) headers[`${prefix}time`] = envelope.time;
  if (envelope.subject !== undefined) headers[`${prefix}subject`] = envelope.subject;
  if (envelope.causationid !== undefined) headers[`${prefix}causationid`] = envelope.causationid;
  if (envelope.partitionkey !== undefined) headers[`${prefix}partitionkey`] = envelope.partitionkey;
  if (envelope.traceparent !== undefined) headers[`${prefix}traceparent`] = envelope.traceparent;
  if (envelope.tracestate !== undefined) headers[`${prefix}tracestate`] = envelope.tracestate;
  if (envelope.sequence !== undefined) {
    headers[`${prefix}sequence`] = formatSequence(envelope.sequence);
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
  const message: WireMessage = {
    key: envelope.partitionkey,
    headers,
    body: Buffer.from(json, 'utf8'),
  };

  const limit = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const size = surelyWithin(message, limit) ? 0 : wireSize(message);
  if (size > limit) {
    throw new PayloadTooLargeError(size, limit, { eventType: envelope.type, eventId: envelope.id });
  }
  return message;
}
