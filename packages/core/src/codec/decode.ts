import type { AnyEventContract, EventData } from '../contract/event-contract';
import { upcast } from '../contract/upcast';
import { validate } from '../contract/validate';
import { isFailureHeader } from '../dead-letter/failure-headers';
import type { EventEnvelope } from '../envelope/event-envelope';
import {
  DecodeError,
  MissingAttributeError,
  PayloadTooLargeError,
  UnknownEventError,
  UnsupportedVersionError,
} from '../errors/decode-errors';
import { EdakitError, type ErrorContext } from '../errors/edakit-error';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  isJsonContentType,
  isStructuredContentType,
  parseSequence,
} from './attributes';
import { parseUntrustedJson } from './safe-json';
import {
  defaultHeaderNaming,
  type HeaderNaming,
  surelyWithin,
  type WireMessage,
  wireSize,
} from './wire-message';

export interface ParseOptions {
  readonly naming?: HeaderNaming;
  /** Largest message accepted, body plus headers. Default 1 MiB. */
  readonly maxBytes?: number;
  /** Where the message came from, for error context. */
  readonly channel?: string;
}

/** A parsed event whose data is not yet upcast or validated. */
export type RawEvent = Omit<EventEnvelope<unknown>, 'dataversion'> & {
  /** Version the producer wrote; 1 when the producer did not say. */
  readonly dataversion: number;
};

/**
 * Wire message -> raw event. Trusts nothing: size, UTF-8, JSON, prototype keys
 * and every required attribute are checked. Binary content mode, plus
 * structured mode (`application/cloudevents+json`) for other producers.
 */
export function parseWireMessage(message: WireMessage, options: ParseOptions = {}): RawEvent {
  try {
    return parse(message, options);
  } catch (error) {
    throw asDecodeError(error, options.channel);
  }
}

function parse(message: WireMessage, options: ParseOptions): RawEvent {
  const naming = options.naming ?? defaultHeaderNaming;
  const headers = message.headers;
  const prefix = naming.attributePrefix;
  const context: ErrorContext = {
    eventType: headers[`${prefix}type`],
    eventId: headers[`${prefix}id`],
    channel: options.channel,
  };
  const limit = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  // edakit's own failure headers are not the producer's: a retried message near
  // the limit must not become "too large" because of its failure history.
  if (!surelyWithin(message, limit)) {
    const size = wireSize(message, isFailureHeader);
    if (size > limit) throw new PayloadTooLargeError(size, limit, context);
  }

  const contentType = headers[naming.contentType] ?? headers[`${prefix}datacontenttype`];
  if (contentType !== undefined && isStructuredContentType(contentType)) {
    return parseStructured(message.body, context);
  }
  const attribute = (name: string): string | undefined => {
    const value: unknown = headers[`${prefix}${name}`];
    if (value !== undefined && typeof value !== 'string') {
      throw new DecodeError(`Header "${prefix}${name}" must be a string`, {
        ...context,
        path: name,
      });
    }
    return value;
  };
  const datacontenttype = contentType ?? 'application/json';
  if (!isJsonContentType(datacontenttype)) {
    throw new DecodeError(`Content type "${datacontenttype}" is not JSON`, context);
  }
  return buildRawEvent(
    attribute,
    datacontenttype,
    parseUntrustedJson(message.body, context),
    context,
  );
}

function parseStructured(body: Uint8Array, context: ErrorContext): RawEvent {
  const event = parseUntrustedJson(body, context);
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new DecodeError('A structured-mode CloudEvent must be a JSON object', context);
  }
  const fields = event as Record<string, unknown>;
  if ('data_base64' in fields) {
    throw new DecodeError('Binary data (data_base64) is not supported; send JSON data', context);
  }
  const attribute = (name: string): string | undefined => {
    const value = fields[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    // JSON format allows numbers and booleans for some extensions; nothing else.
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new DecodeError(`Attribute "${name}" must be a string`, { ...context, path: name });
  };
  const datacontenttype = attribute('datacontenttype') ?? 'application/json';
  if (!isJsonContentType(datacontenttype)) {
    throw new DecodeError(`Content type "${datacontenttype}" is not JSON`, context);
  }
  return buildRawEvent(attribute, datacontenttype, fields.data, {
    ...context,
    eventType: attribute('type'),
    eventId: attribute('id'),
  });
}

function buildRawEvent(
  attribute: (name: string) => string | undefined,
  datacontenttype: string,
  data: unknown,
  context: ErrorContext,
): RawEvent {
  const required = (name: string): string => {
    const value = attribute(name);
    if (value === undefined || value === '') throw new MissingAttributeError(name, context);
    return value;
  };
  const id = required('id');
  const type = required('type');
  const source = required('source');
  const specversion = required('specversion');
  const full = { ...context, eventType: type, eventId: id };
  if (specversion !== '1.0') {
    throw new DecodeError(`specversion "${specversion}" is not supported (only 1.0)`, {
      ...full,
      path: 'specversion',
    });
  }
  const versionText = attribute('dataversion');
  const dataversion = versionText === undefined ? 1 : Number(versionText);
  if (versionText !== undefined && !/^\d{1,9}$/.test(versionText)) {
    throw new MissingAttributeError('dataversion', full);
  }
  const sequenceText = attribute('sequence');
  const sequence = sequenceText === undefined ? undefined : parseSequence(sequenceText);
  if (sequenceText !== undefined && sequence === undefined) {
    throw new MissingAttributeError('sequence', full);
  }
  const time = attribute('time');
  if (time !== undefined && Number.isNaN(Date.parse(time))) {
    throw new MissingAttributeError('time', full);
  }
  return {
    specversion: '1.0',
    id,
    source,
    type,
    time,
    subject: attribute('subject'),
    datacontenttype,
    dataversion,
    correlationid: attribute('correlationid') ?? id,
    causationid: attribute('causationid'),
    partitionkey: attribute('partitionkey'),
    traceparent: attribute('traceparent'),
    tracestate: attribute('tracestate'),
    sequence,
    data,
  };
}

/**
 * Raw event -> typed envelope for one contract: upcasts old versions through
 * the chain and validates against the contract's current schema.
 */
export function toEnvelope<C extends AnyEventContract>(
  raw: RawEvent,
  contract: C,
  channel?: string,
): EventEnvelope<EventData<C>, C['type']> {
  const context: ErrorContext = { eventType: raw.type, eventId: raw.id, channel };
  if (raw.dataversion > contract.version || raw.dataversion < 1) {
    throw new UnsupportedVersionError(raw.dataversion, contract.version, context);
  }
  const current =
    raw.dataversion === contract.version
      ? raw.data
      : upcast(contract, raw.data, raw.dataversion, context);
  const data = validate(contract, current, context);
  return { ...raw, type: contract.type, dataversion: contract.version, data };
}

/** Anything unexpected from untrusted input is a decode failure, never a retryable crash. */
function asDecodeError(error: unknown, channel: string | undefined): unknown {
  if (EdakitError.isInstance(error)) return error;
  return new DecodeError(
    `Message could not be decoded: ${(error as Error)?.message ?? String(error)}`,
    { channel },
    error,
  );
}

export interface DecodeOptions extends ParseOptions {
  /** The contract this consumer reads a type as; undefined = unknown type. */
  readonly resolve: (type: string) => AnyEventContract | undefined;
}

/** Wire message -> validated, upcast envelope. Every failure has its own code. */
export function decodeEvent(message: WireMessage, options: DecodeOptions): EventEnvelope {
  const raw = parseWireMessage(message, options);
  const contract = options.resolve(raw.type);
  if (!contract) {
    throw new UnknownEventError(raw.type, { eventId: raw.id, channel: options.channel });
  }
  return toEnvelope(raw, contract, options.channel);
}
