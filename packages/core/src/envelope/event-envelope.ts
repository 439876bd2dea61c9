/**
 * A CloudEvents 1.0 event as edakit carries it: the standard attributes plus
 * the extensions edakit relies on. Attribute names follow the CloudEvents spec
 * (lower case, no separators) so the envelope maps 1:1 onto every binding.
 */
export interface EventEnvelope<TData = unknown, TType extends string = string> {
  readonly specversion: '1.0';
  /** UUIDv7: unique and time-ordered; never changes on republish or redrive. */
  readonly id: string;
  /** URI-reference of the producing service, e.g. `/services/orders`. */
  readonly source: string;
  readonly type: TType;
  /** RFC 3339 time the event happened; may be absent on events from other producers. */
  readonly time?: string | undefined;
  readonly subject?: string | undefined;
  readonly datacontenttype: string;
  /** Contract version of `data` as it is now (after upcasting, on the consumer). */
  readonly dataversion: number;
  /** The conversation this event belongs to; the first event's own id by default. */
  readonly correlationid: string;
  /** Id of the event that caused this one. */
  readonly causationid?: string | undefined;
  /** Aggregate id: events with the same key keep their order. */
  readonly partitionkey?: string | undefined;
  /** W3C trace context. */
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
  /** Aggregate version, when the producer knows it. */
  readonly sequence?: number | undefined;
  readonly data: TData;
}

/** Options a producer may set on one publish; everything else is derived. */
export interface PublishOptions {
  /** Give an id to make a publish repeatable (outbox, tests); a UUIDv7 otherwise. */
  readonly id?: string;
  readonly time?: Date | string;
  readonly subject?: string;
  readonly partitionKey?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
  readonly sequence?: number;
}
