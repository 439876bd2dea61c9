import type { ContractRegistry } from '../contract/registry';
import type { EventEnvelope } from '../envelope/event-envelope';
import { EdakitError } from '../errors/edakit-error';
import { SubscribeError } from '../errors/handling-errors';
import { messageOf } from '../errors/message-of';
import { InvalidOptionsError } from '../errors/usage-errors';
import type { ContextPublish } from '../handler/handler';
import type { Logger } from '../logging/logger';
import type { Middleware } from '../middleware/middleware';
import type { ObserverSet } from '../observability/observer-set';
import { type RetryOptions, resolveRetryPolicy } from '../retry/retry-policy';
import type { Delivery, Transport, TransportConsumer } from '../transport/transport';
import type { SubscribeOptions } from './bus-options';
import { type DeliveryHandlerOptions, handleDelivery } from './delivery-handler';
import { InFlightDeliveries } from './in-flight';
import { resolveHandlers } from './resolve-handlers';

const GROUP = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export interface SubscriptionDependencies {
  readonly transport: Transport;
  readonly registry: ContractRegistry;
  readonly logger: Logger;
  readonly busMiddleware: readonly Middleware[];
  readonly defaultRetry: RetryOptions | undefined;
  readonly maxMessageBytes: number | undefined;
  readonly publishFrom: (event: EventEnvelope) => ContextPublish;
  readonly observers: ObserverSet;
  /** Told once a stop finished, so the bus forgets a subscription stopped on its own. */
  readonly stopped?: (subscription: Subscription) => void;
}

/** One consumer group of a bus: its handlers, policy and running consumer. */
export class Subscription {
  readonly group: string;
  private readonly deliveryOptions: DeliveryHandlerOptions;
  private readonly channels: string[];
  private readonly concurrency: number;
  private readonly startFrom: 'latest' | 'earliest';
  private readonly inFlightDeliveries = new InFlightDeliveries();
  private consumer: TransportConsumer | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    options: SubscribeOptions,
    private readonly dependencies: SubscriptionDependencies,
  ) {
    if (typeof options.group !== 'string' || !GROUP.test(options.group)) {
      throw new InvalidOptionsError(
        `Group "${String(options.group)}" is invalid: letters, digits, ".", "_", "-" only, at most 200`,
        { group: String(options.group) },
      );
    }
    this.group = options.group;
    const concurrency = options.concurrency ?? 8;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new InvalidOptionsError(`concurrency of "${this.group}" must be a positive integer`, {
        group: this.group,
      });
    }
    if (
      options.handlerTimeoutMs !== undefined &&
      !(Number.isFinite(options.handlerTimeoutMs) && options.handlerTimeoutMs > 0)
    ) {
      throw new InvalidOptionsError(`handlerTimeoutMs of "${this.group}" must be positive`, {
        group: this.group,
      });
    }
    this.concurrency = concurrency;
    this.startFrom = options.startFrom ?? 'latest';
    const handlersByType = resolveHandlers(this.group, options.handlers, [
      ...dependencies.busMiddleware,
      ...(options.middleware ?? []),
    ]);
    for (const handlers of handlersByType.values()) {
      for (const handler of handlers) dependencies.registry.add(handler.contract);
    }
    this.channels = [
      ...new Set(
        [...handlersByType.values()].flatMap((list) => list.map((h) => h.contract.channel)),
      ),
    ];
    this.deliveryOptions = {
      group: this.group,
      handlersByType,
      registry: dependencies.registry,
      policy: resolveRetryPolicy(options.retry ?? dependencies.defaultRetry),
      naming: dependencies.transport.headerNaming,
      maxBytes: dependencies.maxMessageBytes,
      handlerTimeoutMs: options.handlerTimeoutMs,
      unknownEvents: options.unknownEvents ?? 'deadLetter',
      logger: dependencies.logger,
      publishFrom: dependencies.publishFrom,
      observers: dependencies.observers,
    };
  }

  /** Core's handling of one delivery, built once rather than per delivery. */
  private readonly handleOne = (delivery: Delivery, signal: AbortSignal) =>
    handleDelivery(delivery, signal, this.deliveryOptions);

  /** Deliveries being handled now. */
  get inFlight(): number {
    return this.inFlightDeliveries.size;
  }

  get running(): boolean {
    return this.consumer !== undefined && !this.inFlightDeliveries.isStopping;
  }

  /** Resolves once the transport consumes for this group. */
  start(): Promise<void> {
    this.starting ??= this.dependencies.transport
      .subscribe({
        group: this.group,
        channels: this.channels,
        types: [...this.deliveryOptions.handlersByType.keys()],
        concurrency: this.concurrency,
        startFrom: this.startFrom,
        handle: (delivery) => this.inFlightDeliveries.run(this.handleOne, delivery),
      })
      .then((consumer) => {
        this.consumer = consumer;
      })
      .catch((error: unknown) => {
        this.starting = undefined;
        if (EdakitError.isInstance(error)) throw error;
        const transport = this.dependencies.transport.name;
        throw new SubscribeError(
          `Transport "${transport}" could not start consuming for group "${this.group}": ${messageOf(error)}`,
          {
            cause: error,
            context: { group: this.group, channels: [...this.channels] },
            // The client's own verdict when it gives one (kafkajs: `retriable`).
            retryable: (error as { retriable?: unknown } | null)?.retriable !== false,
          },
        );
      });
    return this.starting;
  }

  /** Drains within `deadlineMs`; unfinished deliveries are released, never acked. */
  async stop(deadlineMs: number): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    const cancelDeadline = this.inFlightDeliveries.beginStop(deadlineMs);
    try {
      await this.consumer?.stop();
    } finally {
      cancelDeadline();
      this.consumer = undefined;
      this.starting = undefined;
      this.dependencies.stopped?.(this);
    }
  }
}
