import { InvalidOptionsError, type Logger } from '@edakit/core';
import type { Options, SocketOptions } from 'amqplib';

export type QueueType = 'quorum' | 'classic';

/**
 * What happens to an event no queue is bound for: it goes to the alternate
 * exchange and its queue (default), or `publish` rejects (`mandatory` +
 * `basic.return`).
 */
export type UnroutablePolicy = 'alternate' | 'reject';

export interface RabbitMqTransportOptions {
  /**
   * `amqp://user:password@host:5672/vhost` (or `amqps://` for TLS), or amqplib's
   * connect options object. Passed to amqplib as given; never logged (logs and
   * errors show it with the password replaced by `***`).
   */
  readonly url: string | Options.Connect;
  /** amqplib socket options: TLS (`ca`, `cert`, `key`, `servername`), timeouts. */
  readonly socketOptions?: SocketOptions;
  /** Client-provided connection name, suffixed `:publish` / `:consume`. Default `edakit`. */
  readonly connectionName?: string;
  /** AMQP heartbeat, seconds. Default 20 (RabbitMQ advises against values under 5). */
  readonly heartbeatSeconds?: number;
  /** The durable topic exchange events are published to (routing key = event type). Default `edakit.events`. */
  readonly exchange?: string;
  /** Prepended to every queue name: `staging.` makes group `billing` queue `staging.billing`. */
  readonly queuePrefix?: string;
  /**
   * Type of the group queues and their retry queues. Default 'quorum'. A quorum
   * queue is always declared with a dead-letter target (`<queue>.dlq`).
   */
  readonly queueType?: QueueType;
  /**
   * Quorum queues only: redeliveries after which RabbitMQ dead-letters a message
   * to `<queue>.dlq` (`x-delivery-limit`). Unset: the broker's default (none on
   * 3.x, 20 on 4.x).
   */
  readonly deliveryLimit?: number;
  /** Declare group queues with single active consumer: one member consumes at a time, in order. */
  readonly singleActiveConsumer?: boolean;
  /** Unacknowledged deliveries per consumer. Default: the subscription's concurrency. */
  readonly prefetch?: number;
  /**
   * Retry delays become TTL queues per group, one per tier; a delay goes to the
   * smallest tier that holds it. Default [1 s, 10 s, 60 s, 10 min].
   */
  readonly retryTiersMs?: readonly number[];
  /** Default 'alternate'. */
  readonly unroutable?: UnroutablePolicy;
  /** Alternate exchange (fanout) and its queue. Default `<exchange>.unroutable`. */
  readonly alternateExchange?: string;
  /** How long a publish may wait for the broker's confirm, connection included. Default 10 s. */
  readonly publishTimeoutMs?: number;
  /** Unconfirmed messages on the publisher channel. Default 1000. */
  readonly maxInFlight?: number;
  /**
   * Publishes that may wait to be written: while there is no connection or
   * channel, while the broker blocks the connection (resource alarm, with
   * `failFastWhenBlocked: false`), or while `maxInFlight` are unconfirmed.
   * Each waits at most until its `publishTimeoutMs` deadline; beyond this
   * many, a publish (a whole `publish` call) rejects at once with
   * `PublishQueueFullError` (`EDAKIT_PUBLISH_FAILED`, retryable,
   * `context.reason: 'queue-full'`) and nothing is sent. Default 10 000.
   */
  readonly maxQueued?: number;
  /** Reject publishes at once while the broker blocks the publishing connection. Default false. */
  readonly failFastWhenBlocked?: boolean;
  /**
   * How long `connect()` keeps trying before it rejects. Default 15 s. Also
   * bounds each connection attempt, AMQP handshake included (amqplib's socket
   * `timeout`), unless `socketOptions.timeout` is set.
   */
  readonly connectTimeoutMs?: number;
  /** First reconnect delay, doubled (with jitter) up to `maxReconnectDelayMs`. Default 100 ms. */
  readonly reconnectDelayMs?: number;
  /** Default 10 s. */
  readonly maxReconnectDelayMs?: number;
  /**
   * How long stopping a consumer (`transport.close()`, a subscription's stop)
   * waits for its handlers in flight; then it closes the channel (the broker
   * requeues their deliveries) and returns. `bus.stop()` releases handlers by
   * its own deadline first. Default 30 s.
   */
  readonly stopTimeoutMs?: number;
  readonly logger?: Logger;
}

export const DEFAULT_RETRY_TIERS_MS: readonly number[] = [1_000, 10_000, 60_000, 600_000];
export const DEFAULT_EXCHANGE = 'edakit.events';

/** Options with every default applied and checked. */
export interface ResolvedOptions {
  readonly url: string | Options.Connect;
  readonly socketOptions: SocketOptions;
  readonly connectionName: string;
  readonly heartbeatSeconds: number;
  readonly exchange: string;
  readonly alternateExchange: string;
  readonly queuePrefix: string;
  readonly queueType: QueueType;
  readonly deliveryLimit: number | undefined;
  readonly singleActiveConsumer: boolean;
  readonly prefetch: number | undefined;
  readonly retryTiersMs: readonly number[];
  readonly unroutable: UnroutablePolicy;
  readonly publishTimeoutMs: number;
  readonly maxInFlight: number;
  readonly maxQueued: number;
  readonly failFastWhenBlocked: boolean;
  readonly connectTimeoutMs: number;
  readonly reconnectDelayMs: number;
  readonly maxReconnectDelayMs: number;
  readonly stopTimeoutMs: number;
}

const NAME = /^[A-Za-z0-9._:-]{1,200}$/;

export function resolveOptions(options: RabbitMqTransportOptions): ResolvedOptions {
  if (
    !options ||
    (typeof options.url !== 'string' && (typeof options.url !== 'object' || options.url === null))
  ) {
    throw new InvalidOptionsError(
      'RabbitMqTransport needs a url, e.g. "amqp://guest:guest@127.0.0.1:5672"',
    );
  }
  const exchange = options.exchange ?? DEFAULT_EXCHANGE;
  const alternateExchange = options.alternateExchange ?? `${exchange}.unroutable`;
  for (const [name, value] of [
    ['exchange', exchange],
    ['alternateExchange', alternateExchange],
  ] as const) {
    if (!NAME.test(value)) {
      throw new InvalidOptionsError(
        `${name} "${value}" is invalid: letters, digits, ".", "_", ":", "-" only`,
      );
    }
  }
  const queuePrefix = options.queuePrefix ?? '';
  if (queuePrefix !== '' && !NAME.test(queuePrefix)) {
    throw new InvalidOptionsError(`queuePrefix "${queuePrefix}" is invalid`);
  }
  const queueType = options.queueType ?? 'quorum';
  if (queueType !== 'quorum' && queueType !== 'classic') {
    throw new InvalidOptionsError(`queueType must be 'quorum' or 'classic', got "${queueType}"`);
  }
  const retryTiersMs = [...(options.retryTiersMs ?? DEFAULT_RETRY_TIERS_MS)].sort((a, b) => a - b);
  if (retryTiersMs.length === 0 || retryTiersMs.some((tier) => !positiveInteger(tier))) {
    throw new InvalidOptionsError(
      'retryTiersMs must be a non-empty list of positive integers (ms)',
    );
  }
  const unroutable = options.unroutable ?? 'alternate';
  if (unroutable !== 'alternate' && unroutable !== 'reject') {
    throw new InvalidOptionsError(`unroutable must be 'alternate' or 'reject'`);
  }
  if (options.deliveryLimit !== undefined && !positiveInteger(options.deliveryLimit)) {
    throw new InvalidOptionsError('deliveryLimit must be a positive integer');
  }
  if (options.deliveryLimit !== undefined && queueType !== 'quorum') {
    throw new InvalidOptionsError('deliveryLimit applies to quorum queues only');
  }
  if (options.prefetch !== undefined && !positiveInteger(options.prefetch)) {
    throw new InvalidOptionsError('prefetch must be a positive integer');
  }
  const resolved: ResolvedOptions = {
    url: options.url,
    socketOptions: options.socketOptions ?? {},
    connectionName: options.connectionName ?? 'edakit',
    heartbeatSeconds: options.heartbeatSeconds ?? 20,
    exchange,
    alternateExchange,
    queuePrefix,
    queueType,
    deliveryLimit: options.deliveryLimit,
    singleActiveConsumer: options.singleActiveConsumer ?? false,
    prefetch: options.prefetch,
    retryTiersMs,
    unroutable,
    publishTimeoutMs: options.publishTimeoutMs ?? 10_000,
    maxInFlight: options.maxInFlight ?? 1_000,
    maxQueued: options.maxQueued ?? 10_000,
    failFastWhenBlocked: options.failFastWhenBlocked ?? false,
    connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
    reconnectDelayMs: options.reconnectDelayMs ?? 100,
    maxReconnectDelayMs: options.maxReconnectDelayMs ?? 10_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 30_000,
  };
  for (const name of [
    'publishTimeoutMs',
    'maxInFlight',
    'maxQueued',
    'connectTimeoutMs',
    'reconnectDelayMs',
    'maxReconnectDelayMs',
    'stopTimeoutMs',
  ] as const) {
    if (!positiveInteger(resolved[name])) {
      throw new InvalidOptionsError(`${name} must be a positive integer`);
    }
  }
  if (!(Number.isSafeInteger(resolved.heartbeatSeconds) && resolved.heartbeatSeconds >= 0)) {
    throw new InvalidOptionsError('heartbeatSeconds must be a non-negative integer');
  }
  return resolved;
}

function positiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}
