import { InvalidOptionsError } from '../errors/usage-errors';

/** What a transport moves: bytes plus string headers. Transports never look inside. */
export interface WireMessage {
  /** Partition/routing key: the envelope's `partitionkey`. */
  readonly key?: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/**
 * How a transport names CloudEvents attributes in its headers (binary content
 * mode) and its content-type header (both modes). With the content mode
 * (`ContentMode`), the part of the wire format a transport chooses.
 */
export interface HeaderNaming {
  /** Prefix of attribute headers: `ce_` (Kafka binding), `cloudEvents_` (AMQP). */
  readonly attributePrefix: string;
  /** Header that carries `datacontenttype`. */
  readonly contentType: string;
}

/**
 * How a transport lays events out (the CloudEvents content modes). `binary`:
 * one header per attribute, `data` as the body. `structured`: the whole event
 * as one JSON document (`application/cloudevents+json`), one header in all:
 * cheaper for clients that pay per header (kafkajs), opaque to header-based
 * routing and filters.
 */
export type ContentMode = 'binary' | 'structured';

/** A `contentMode` option, checked: `binary` when absent, InvalidOptionsError when unknown. */
export function resolveContentMode(value: unknown, where: string): ContentMode {
  if (value === undefined || value === 'binary') return 'binary';
  if (value === 'structured') return value;
  throw new InvalidOptionsError(
    `${where}: contentMode must be "binary" or "structured", got ${JSON.stringify(value)}`,
  );
}

/** The content type of a structured-mode message (what the CloudEvents SDKs write). */
export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

/** The CloudEvents Kafka binding's naming; also the memory transport's. */
export const defaultHeaderNaming: HeaderNaming = Object.freeze({
  attributePrefix: 'ce_',
  contentType: 'content-type',
});

/** The header of every CloudEvents attribute under one naming. */
export interface HeaderNames {
  readonly specversion: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time: string;
  readonly subject: string;
  /** The attribute header `datacontenttype` (read when the content-type header is absent). */
  readonly datacontenttype: string;
  readonly dataversion: string;
  readonly correlationid: string;
  readonly causationid: string;
  readonly partitionkey: string;
  readonly traceparent: string;
  readonly tracestate: string;
  readonly sequence: string;
  /** The header that carries `datacontenttype`: `naming.contentType`. */
  readonly contentType: string;
}

interface CachedNames {
  readonly attributePrefix: string;
  readonly contentType: string;
  readonly names: HeaderNames;
}

// Header names are built once per naming, not per message: the encoder and the
// decoder would otherwise concatenate (and hash) 14 strings per event.
const namesByNaming = new WeakMap<HeaderNaming, CachedNames>();

/** The header names of `naming`, computed once per naming object. */
export function headerNamesOf(naming: HeaderNaming): HeaderNames {
  const cached = namesByNaming.get(naming);
  if (
    cached !== undefined &&
    cached.attributePrefix === naming.attributePrefix &&
    cached.contentType === naming.contentType
  ) {
    return cached.names;
  }
  const prefix = naming.attributePrefix;
  const names: HeaderNames = Object.freeze({
    specversion: internal(`${prefix}specversion`),
    id: internal(`${prefix}id`),
    source: internal(`${prefix}source`),
    type: internal(`${prefix}type`),
    time: internal(`${prefix}time`),
    subject: internal(`${prefix}subject`),
    datacontenttype: internal(`${prefix}datacontenttype`),
    dataversion: internal(`${prefix}dataversion`),
    correlationid: internal(`${prefix}correlationid`),
    causationid: internal(`${prefix}causationid`),
    partitionkey: internal(`${prefix}partitionkey`),
    traceparent: internal(`${prefix}traceparent`),
    tracestate: internal(`${prefix}tracestate`),
    sequence: internal(`${prefix}sequence`),
    contentType: internal(naming.contentType),
  });
  namesByNaming.set(naming, {
    attributePrefix: naming.attributePrefix,
    contentType: naming.contentType,
    names,
  });
  return names;
}

/** The engine's own copy of a string (as a property key has), so lookups skip hashing. */
function internal(name: string): string {
  return Object.keys({ [name]: 0 })[0] as string;
}

/**
 * Size of a message as brokers count it: body plus header names and values,
 * leaving out headers `skip` names.
 */
export function wireSize(message: WireMessage, skip?: (header: string) => boolean): number {
  let size = message.body.byteLength;
  const headers = message.headers;
  for (const name in headers) {
    if (skip?.(name)) continue;
    size += Buffer.byteLength(name) + Buffer.byteLength(headers[name] as string);
  }
  return size;
}

/**
 * True when the message is certainly within `limit`: a cheap upper bound (a
 * UTF-16 code unit is at most 3 UTF-8 bytes) that spares the exact count in
 * the common case.
 */
export function surelyWithin(message: WireMessage, limit: number): boolean {
  const headers = message.headers;
  let chars = 0;
  for (const name in headers) chars += name.length + (headers[name]?.length ?? 0);
  return message.body.byteLength + 3 * chars <= limit;
}
