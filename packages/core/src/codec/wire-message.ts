/** What a transport moves: bytes plus string headers. Transports never look inside. */
export interface WireMessage {
  /** Partition/routing key: the envelope's `partitionkey`. */
  readonly key?: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/**
 * How a transport names CloudEvents attributes in its headers (binary content
 * mode). This is the only part of the wire format a transport chooses.
 */
export interface HeaderNaming {
  /** Prefix of attribute headers: `ce_` (Kafka binding), `cloudEvents_` (AMQP). */
  readonly attributePrefix: string;
  /** Header that carries `datacontenttype`. */
  readonly contentType: string;
}

/** The CloudEvents Kafka binding's naming; also the memory transport's. */
export const defaultHeaderNaming: HeaderNaming = Object.freeze({
  attributePrefix: 'ce_',
  contentType: 'content-type',
});

/**
 * Size of a message as brokers count it: body plus header names and values,
 * leaving out headers `skip` names.
 */
export function wireSize(message: WireMessage, skip?: (header: string) => boolean): number {
  let size = message.body.byteLength;
  for (const [name, value] of Object.entries(message.headers)) {
    if (skip?.(name)) continue;
    size += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  return size;
}

/**
 * True when the message is certainly within `limit`: a cheap upper bound (a
 * UTF-16 code unit is at most 3 UTF-8 bytes) that spares the exact count in
 * the common case.
 */
export function surelyWithin(message: WireMessage, limit: number): boolean {
  let bound = message.body.byteLength;
  for (const name in message.headers)
    bound += 3 * (name.length + (message.headers[name]?.length ?? 0));
  return bound <= limit;
}
