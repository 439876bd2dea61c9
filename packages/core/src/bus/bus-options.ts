import type { AnyEventContract } from '../contract/event-contract';
import type { HandlerBinding } from '../handler/handler';
import type { Logger } from '../logging/logger';
import type { Middleware } from '../middleware/middleware';
import type { BusTracing } from '../observability/bus-tracing';
import type { RetryOptions } from '../retry/retry-policy';
import type { Transport } from '../transport/transport';

export type UnknownEventPolicy = 'deadLetter' | 'ignore';

export interface BusOptions {
  readonly transport: Transport;
  /** CloudEvents `source` of everything this service publishes: `/services/orders`. */
  readonly source: string;
  /** Contracts this service reads or writes besides the ones its handlers name. */
  readonly contracts?: readonly AnyEventContract[];
  /** Runs around every handler of every subscription, outermost first. */
  readonly middleware?: readonly Middleware[];
  /** Default retry policy of subscriptions. */
  readonly retry?: RetryOptions;
  /** Largest message published or accepted, body plus headers. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** How long `stop()` waits for running handlers. Default 10 s. */
  readonly stopDeadlineMs?: number;
  /** Close the transport when the bus stops. Default true. */
  readonly closeTransportOnStop?: boolean;
  readonly logger?: Logger;
  /**
   * Spans around publishes and handler attempts, with W3C trace context in
   * every envelope: `openTelemetry()` from `@edakit/core/opentelemetry`. Off by default.
   */
  readonly tracing?: BusTracing;
}

export interface SubscribeOptions {
  /** Consumer group: every group gets each event once; members of a group compete. */
  readonly group: string;
  readonly handlers: readonly HandlerBinding[];
  /** Events handled at once (events with the same partition key never overlap). Default 8. */
  readonly concurrency?: number;
  readonly retry?: RetryOptions;
  /** Runs inside the bus middleware, around this group's handlers. */
  readonly middleware?: readonly Middleware[];
  /** Fails an attempt that runs longer (retryable, EDAKIT_HANDLER_TIMEOUT). */
  readonly handlerTimeoutMs?: number;
  /** Where a new group starts. Default 'latest'. */
  readonly startFrom?: 'latest' | 'earliest';
  /**
   * An event type no contract of this service knows: dead-letter it (default,
   * nothing is dropped silently) or acknowledge and skip it.
   */
  readonly unknownEvents?: UnknownEventPolicy;
}

export interface StopOptions {
  /** Overrides the bus's stopDeadlineMs for this stop. */
  readonly deadlineMs?: number;
}
