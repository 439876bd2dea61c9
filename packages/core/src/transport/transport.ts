import type { ContentMode, HeaderNaming, WireMessage } from '../codec/wire-message';
import type { SettleOutcome } from './settle-outcome';

/** One message to publish, with where it goes. */
export interface OutgoingMessage {
  /** Kafka topic, RabbitMQ routing family, memory channel. */
  readonly channel: string;
  /** Event type: RabbitMQ's routing key, a filter elsewhere. */
  readonly type: string;
  readonly message: WireMessage;
}

/** A message handed to core for handling. */
export interface Delivery {
  readonly message: WireMessage;
  readonly channel: string;
  /** Broker-side origin (topic, queue) written into dead-letter metadata. */
  readonly origin: string;
}

/**
 * What a transport needs to consume for one group. Core decides every outcome
 * in `handle`; the transport only executes it.
 */
export interface TransportSubscription {
  readonly group: string;
  readonly channels: readonly string[];
  /** Event types this group handles; a transport may use them to bind or filter. */
  readonly types: readonly string[];
  /** Deliveries handled at once; events with the same key never run in parallel. */
  readonly concurrency: number;
  /** Where a brand-new group starts reading: the end of the log (default) or its start. */
  readonly startFrom: 'latest' | 'earliest';
  /**
   * Handles one delivery. Never rejects. Resolves to the outcome the transport
   * must settle; `release` (only during stop) means "not handled: redeliver".
   */
  handle(delivery: Delivery): Promise<SettleOutcome>;
}

/** A running consumer of one group. */
export interface TransportConsumer {
  /**
   * Stops fetching, waits for every `handle` call in flight (core makes them
   * resolve within the stop deadline), settles their outcomes, then detaches.
   */
  stop(): Promise<void>;
}

export type HealthStatus = 'up' | 'degraded' | 'down';

/** One consumer group's consumer, as its transport sees it. */
export interface ConsumerHealth {
  readonly group: string;
  /** Consuming now; false when it crashed, lost its channel or is stopping. */
  readonly running: boolean;
  readonly lastError?: string | undefined;
}

/**
 * Messages waiting for a consumer: the lag of one Kafka partition (after the
 * group's committed offset) or the messages ready in one queue.
 */
export interface BacklogFigure {
  readonly kind: 'partition' | 'queue';
  /** The group the messages wait for; absent for a queue no group reads (unroutable messages). */
  readonly group?: string | undefined;
  /** Kafka topic or queue name. */
  readonly name: string;
  /** Kafka partition (kind `partition`). */
  readonly partition?: number | undefined;
  readonly messages: number;
  /**
   * `work`: the main topic or queue (what "falling behind" means); `retry`:
   * events waiting for a delayed retry; `dead-letter`: parked, nobody reads
   * them; `unroutable`: published to no queue.
   */
  readonly role: 'work' | 'retry' | 'dead-letter' | 'unroutable';
}

export interface TransportHealth {
  readonly status: HealthStatus;
  readonly details: Readonly<Record<string, unknown>>;
  /** Every consumer of the transport, running or not (a crashed one is not). */
  readonly consumers?: readonly ConsumerHealth[] | undefined;
  /** Messages waiting, when the broker can tell (absent while it is unreachable). */
  readonly backlog?: readonly BacklogFigure[] | undefined;
}

/**
 * The seam between core and a broker. Transports move bytes and settle
 * outcomes; validation, retries and dead-letter decisions live in core.
 *
 * Contract: `publish` resolves only after the broker confirmed every message
 * and rejects otherwise; `close` is idempotent; methods other than `close`
 * reject with TransportClosedError after it.
 */
export interface Transport {
  readonly name: string;
  /** Header naming for CloudEvents attributes; `ce_` + `content-type` when absent. */
  readonly headerNaming?: HeaderNaming;
  /** How the bus encodes events for this transport; `binary` when absent. Decoding reads both. */
  readonly contentMode?: ContentMode;
  connect(): Promise<void>;
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  subscribe(subscription: TransportSubscription): Promise<TransportConsumer>;
  close(): Promise<void>;
  health(): Promise<TransportHealth>;
}
