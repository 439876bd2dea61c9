import type { AnyEventContract, EventData } from '../contract/event-contract';
import { upcast } from '../contract/upcast';
import { toValidationIssues } from '../contract/validate';
import { isFailureHeader } from '../dead-letter/failure-headers';
import type { EventEnvelope } from '../envelope/event-envelope';
import {
  DecodeError,
  MissingAttributeError,
  PayloadTooLargeError,
  UnknownEventError,
  UnsupportedVersionError,
  ValidationError,
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
  type HeaderNames,
  type HeaderNaming,
  headerNamesOf,
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
  const names = headerNamesOf(options.naming ?? defaultHeaderNaming);
  const headers = message.headers;
  const context: ErrorContext = {
    eventType: headers[names.type],
    eventId: headers[names.id],
    channel: options.channel,
  };
  const limit = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  // edakit's own failure headers are not the producer's: a retried message near
  // the limit must not become "too large" because of its failure history.
  if (!surelyWithin(message, limit)) {
    const size = wireSize(message, isFailureHeader);
    if (size > limit) throw new PayloadTooLargeError(size, limit, context);
  }

  const contentType = headers[names.contentType] ?? headers[names.datacontenttype];
  if (contentType !== undefined && isStructuredContentType(contentType)) {
    return parseStructured(message.body, context);
  }
  const datacontenttype = contentType ?? 'application/json';
  if (!isJsonContentType(datacontenttype)) {
    throw new DecodeError(`Content type "${datacontenttype}" is not JSON`, context);
  }
  return buildRawEvent(
    new HeaderAttributes(headers, names, context),
    datacontenttype,
    parseUntrustedJson(message.body, context),
    context,
  );
}

/** Reads CloudEvents attributes from somewhere: headers (binary mode) or a JSON object. */
interface Attributes {
  /** The attribute's value; throws DecodeError when it is not a string. */
  get(name: keyof HeaderNames): string | undefined;
}

/** Binary mode: one header per attribute, names precomputed for the naming. */
class HeaderAttributes implements Attributes {
  constructor(
    private readonly headers: Readonly<Record<string, string>>,
    private readonly names: HeaderNames,
    private readonly context: ErrorContext,
  ) {}

  get(name: keyof HeaderNames): string | undefined {
    const header = this.names[name];
    const value: unknown = this.headers[header];
    if (value !== undefined && typeof value !== 'string') {
      throw new DecodeError(`Header "${header}" must be a string`, {
        ...this.context,
        path: name,
      });
    }
    return value;
  }
}

/** Structured mode: attributes are members of the JSON event. */
class StructuredAttributes implements Attributes {
  constructor(
    private readonly fields: Record<string, unknown>,
    private readonly context: ErrorContext,
  ) {}

  get(name: keyof HeaderNames): string | undefined {
    const value = this.fields[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    // JSON format allows numbers and booleans for some extensions; nothing else.
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new DecodeError(`Attribute "${name}" must be a string`, {
      ...this.context,
      path: name,
    });
  }
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
  const attributes = new StructuredAttributes(fields, context);
  const datacontenttype = attributes.get('datacontenttype') ?? 'application/json';
  if (!isJsonContentType(datacontenttype)) {
    throw new DecodeError(`Content type "${datacontenttype}" is not JSON`, context);
  }
  return buildRawEvent(attributes, datacontenttype, fields.data, {
    ...context,
    eventType: attributes.get('type'),
    eventId: attributes.get('id'),
  });
}

function required(attributes: Attributes, name: keyof HeaderNames, context: ErrorContext): string {
  const value = attributes.get(name);
  if (value === undefined || value === '') throw new MissingAttributeError(name, context);
  return value;
}

const DATAVERSION = /^\d{1,9}$/;
// Events published in one millisecond share their time: parse each string once.
let lastValidTime: string | undefined;

function buildRawEvent(
  attributes: Attributes,
  datacontenttype: string,
  data: unknown,
  context: ErrorContext,
): RawEvent {
  const id = required(attributes, 'id', context);
  const type = required(attributes, 'type', context);
  const source = required(attributes, 'source', context);
  const specversion = required(attributes, 'specversion', context);
  // Only failures need the full context: built on the way to a throw.
  const full = (): ErrorContext => ({ ...context, eventType: type, eventId: id });
  if (specversion !== '1.0') {
    throw new DecodeError(`specversion "${specversion}" is not supported (only 1.0)`, {
      ...full(),
      path: 'specversion',
    });
  }
  const versionText = attributes.get('dataversion');
  const dataversion = versionText === undefined || versionText === '1' ? 1 : Number(versionText);
  if (versionText !== undefined && versionText !== '1' && !DATAVERSION.test(versionText)) {
    throw new MissingAttributeError('dataversion', full());
  }
  const sequenceText = attributes.get('sequence');
  const sequence = sequenceText === undefined ? undefined : parseSequence(sequenceText);
  if (sequenceText !== undefined && sequence === undefined) {
    throw new MissingAttributeError('sequence', full());
  }
  const time = attributes.get('time');
  if (time !== undefined && time !== lastValidTime) {
    if (Number.isNaN(Date.parse(time))) throw new MissingAttributeError('time', full());
    lastValidTime = time;
  }
  return {
    specversion: '1.0',
    id,
    source,
    type,
    time,
    subject: attributes.get('subject'),
    datacontenttype,
    dataversion,
    correlationid: attributes.get('correlationid') ?? id,
    causationid: attributes.get('causationid'),
    partitionkey: attributes.get('partitionkey'),
    traceparent: attributes.get('traceparent'),
    tracestate: attributes.get('tracestate'),
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
  if (raw.dataversion > contract.version || raw.dataversion < 1) {
    throw new UnsupportedVersionError(raw.dataversion, contract.version, contextOf(raw, channel));
  }
  const current =
    raw.dataversion === contract.version
      ? raw.data
      : upcast(contract, raw.data, raw.dataversion, contextOf(raw, channel));
  const result = contract.schema.safeParse(current);
  if (!result.success) {
    // What validate() throws, with the event's context.
    throw new ValidationError(toValidationIssues(result.error.issues), {
      eventType: contract.type,
      version: contract.version,
      ...contextOf(raw, channel),
    });
  }
  // Spelled out rather than spread: one shape for every envelope.
  return {
    specversion: raw.specversion,
    id: raw.id,
    source: raw.source,
    type: contract.type,
    time: raw.time,
    subject: raw.subject,
    datacontenttype: raw.datacontenttype,
    dataversion: contract.version,
    correlationid: raw.correlationid,
    causationid: raw.causationid,
    partitionkey: raw.partitionkey,
    traceparent: raw.traceparent,
    tracestate: raw.tracestate,
    sequence: raw.sequence,
    data: result.data as EventData<C>,
  };
}

function contextOf(raw: RawEvent, channel: string | undefined): ErrorContext {
  return { eventType: raw.type, eventId: raw.id, channel };
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
