import { randomUUID } from 'node:crypto';
import type { HeaderNaming, WireMessage } from '@edakit/core';
import type { Message, Options } from 'amqplib';

/** CloudEvents AMQP binding: `cloudEvents_` attribute headers, `content-type` for datacontenttype. */
export const AMQP_HEADER_NAMING: HeaderNaming = Object.freeze({
  attributePrefix: 'cloudEvents_',
  contentType: 'content-type',
});

/**
 * Transport headers, stripped before core sees a message. The channel is only
 * written when it is not the event type's first segment (core's default), the
 * key only when it differs from the `partitionkey` attribute.
 */
export const TransportHeaders = {
  channel: 'edakit-transport-channel',
  key: 'edakit-transport-key',
  /** On messages in `<queue>.dlq`: a stable id for list and redrive. */
  deadLetterId: 'edakit-dead-letter-id',
} as const;

const transportHeaderNames: ReadonlySet<string> = new Set(Object.values(TransportHeaders));

/** Where a message goes, with everything AMQP needs to send it. */
export interface AmqpOutgoing {
  readonly content: Buffer;
  readonly properties: Options.Publish & { messageId: string; headers: Record<string, string> };
}

/** The header names `toAmqp` reads, built once per naming instead of per message. */
interface OutgoingNames {
  readonly attributePrefix: string;
  readonly contentType: string;
  readonly id: string;
  readonly type: string;
  readonly time: string;
  readonly partitionkey: string;
}

// The naming of the last call: a transport always passes the same one.
let lastNaming: HeaderNaming | undefined;
let lastNames: OutgoingNames | undefined;

function outgoingNames(naming: HeaderNaming): OutgoingNames {
  if (
    lastNaming === naming &&
    lastNames !== undefined &&
    lastNames.attributePrefix === naming.attributePrefix &&
    lastNames.contentType === naming.contentType
  ) {
    return lastNames;
  }
  const prefix = naming.attributePrefix;
  lastNames = {
    attributePrefix: prefix,
    contentType: naming.contentType,
    id: `${prefix}id`,
    type: `${prefix}type`,
    time: `${prefix}time`,
    partitionkey: `${prefix}partitionkey`,
  };
  lastNaming = naming;
  return lastNames;
}

// Events of one millisecond share their time string: it is parsed once.
let lastTime: string | undefined;
let lastSeconds = 0;

/** The `timestamp` property (whole seconds) of an event time; now when it has none or it does not parse. */
function timestampOf(time: string | undefined): number {
  if (time === undefined) return Math.floor(Date.now() / 1000);
  if (time === lastTime) return lastSeconds;
  const parsed = Date.parse(time);
  if (Number.isNaN(parsed)) return Math.floor(Date.now() / 1000);
  lastTime = time;
  lastSeconds = Math.floor(parsed / 1000);
  return lastSeconds;
}

/**
 * Wire message -> AMQP message: attributes stay in headers, `content-type`
 * moves to the `contentType` property, and `messageId` (= event id), `type`,
 * `timestamp` (seconds) and `persistent` are set as the binding suggests.
 */
export function toAmqp(
  message: WireMessage,
  channel: string,
  type: string,
  naming: HeaderNaming = AMQP_HEADER_NAMING,
  fallbackMessageId?: string,
): AmqpOutgoing {
  const names = outgoingNames(naming);
  const source = message.headers;
  const headers: Record<string, string> = {};
  let contentType: string | undefined;
  for (const name in source) {
    if (!Object.hasOwn(source, name)) continue;
    const value = source[name] as string;
    if (name === names.contentType) contentType = value;
    else headers[name] = value;
  }
  const eventType = headers[names.type] ?? type;
  if (!isDefaultChannel(channel, eventType)) headers[TransportHeaders.channel] = channel;
  if (message.key !== undefined && message.key !== headers[names.partitionkey]) {
    headers[TransportHeaders.key] = message.key;
  }
  const properties: AmqpOutgoing['properties'] = {
    persistent: true,
    messageId: headers[names.id] ?? fallbackMessageId ?? randomUUID(),
    timestamp: timestampOf(headers[names.time]),
    headers,
  };
  if (eventType !== '') properties.type = eventType;
  if (contentType !== undefined) properties.contentType = contentType;
  const body = message.body;
  return {
    content: Buffer.isBuffer(body)
      ? body
      : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    properties,
  };
}

/** What the consumer needs of a delivered AMQP message. */
export interface IncomingWire {
  readonly message: WireMessage;
  /** The AMQP `messageId`, kept when the message is sent on (retry, DLQ). */
  readonly messageId: string | undefined;
  /** The channel the producer named, when it said. */
  readonly channel: string | undefined;
  /** Event type, from the attribute header, the `type` property or the routing key. */
  readonly type: string;
}

/**
 * AMQP message -> wire message core's codec reads: header values as strings,
 * broker (`x-`) and transport headers removed, `contentType` back under
 * `content-type`, the key from the `partitionkey` attribute.
 */
export function fromAmqp(
  message: Pick<Message, 'content' | 'properties' | 'fields'>,
  naming: HeaderNaming = AMQP_HEADER_NAMING,
): IncomingWire {
  const prefix = naming.attributePrefix;
  const raw = (message.properties.headers ?? {}) as Record<string, unknown>;
  const headers: Record<string, string> = {};
  let channel: string | undefined;
  let key: string | undefined;
  for (const name of Object.keys(raw)) {
    const value = headerValue(raw[name]);
    if (value === undefined) continue;
    if (name === TransportHeaders.channel) channel = value;
    else if (name === TransportHeaders.key) key = value;
    else if (isBrokerHeader(name) || transportHeaderNames.has(name)) continue;
    else headers[name] = value;
  }
  const contentType = message.properties.contentType;
  if (headers[naming.contentType] === undefined && typeof contentType === 'string') {
    headers[naming.contentType] = contentType;
  }
  const typeProperty = message.properties.type;
  const type =
    headers[`${prefix}type`] ??
    (typeof typeProperty === 'string' ? typeProperty : undefined) ??
    message.fields.routingKey;
  const messageId = message.properties.messageId;
  return {
    message: { key: key ?? headers[`${prefix}partitionkey`], headers, body: message.content },
    messageId: typeof messageId === 'string' ? messageId : undefined,
    channel,
    type,
  };
}

/** `x-` headers belong to the broker (x-death, x-delivery-count, x-first-death-*). */
export function isBrokerHeader(name: string): boolean {
  return name.length >= 2 && (name[0] === 'x' || name[0] === 'X') && name[1] === '-';
}

/** The channel core gives a contract by default: the type's first segment. */
export function defaultChannelOf(type: string): string {
  const dot = type.indexOf('.');
  return dot < 0 ? type : type.slice(0, dot);
}

/** `channel === defaultChannelOf(type)`, without slicing a string per message. */
function isDefaultChannel(channel: string, type: string): boolean {
  const dot = type.indexOf('.');
  const length = dot < 0 ? type.length : dot;
  return channel.length === length && type.startsWith(channel);
}

/**
 * An AMQP field value as a string: numbers, booleans and timestamps in decimal,
 * byte arrays and longstr as UTF-8, tables and arrays as JSON. Void is dropped.
 */
export function headerValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    const typed = value as { '!'?: unknown; value?: unknown };
    if (typed['!'] === 'decimal') {
      const decimal = typed.value as { places?: unknown; digits?: unknown } | undefined;
      const digits = Number(decimal?.digits);
      const places = Number(decimal?.places);
      if (Number.isFinite(digits) && Number.isFinite(places)) return String(digits / 10 ** places);
    }
    if (typed['!'] !== undefined && 'value' in typed) return headerValue(typed.value);
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}
