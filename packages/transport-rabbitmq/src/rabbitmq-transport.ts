import {
  type BacklogFigure,
  type DeadLetter,
  type DeadLetterAdmin,
  type DeadLetterQuery,
  EdakitError,
  ErrorCodes,
  type HeaderNaming,
  InvalidOptionsError,
  type Logger,
  messageOf,
  type OutgoingMessage,
  PublishError,
  type RedriveRequest,
  silentLogger,
  type Transport,
  TransportClosedError,
  type TransportConsumer,
  type TransportHealth,
  type TransportSubscription,
} from '@edakit/core';
import { AMQP_HEADER_NAMING, toAmqp } from './amqp-message';
import { withTimeout } from './backoff';
import { ConfirmPublisher, type PublishItem, type PublishTarget } from './confirm-publisher';
import { DeadLetterQueues } from './dead-letter-queue';
import { BrokerUnavailableError } from './errors';
import { GroupConsumer } from './group-consumer';
import { type ConnectionRole, ManagedConnection } from './managed-connection';
import { type QueueStats, queueStats } from './queue-stats';
import {
  type RabbitMqTransportOptions,
  type ResolvedOptions,
  resolveOptions,
} from './rabbitmq-transport-options';
import { describeBroker, redactSecrets, secretsOf } from './redact';
import { Topology } from './topology';
import { TopologyNames } from './topology-names';

/**
 * edakit's RabbitMQ transport (amqplib). Events go to one durable topic
 * exchange with the event type as routing key; each subscription group has a
 * durable queue (quorum by default) bound to the types it handles, TTL retry
 * queues per delay tier that lead back to that queue only, and `<queue>.dlq`.
 * CloudEvents attributes travel as `cloudEvents_*` headers (the AMQP binding,
 * binary mode).
 *
 * @example
 * const transport = new RabbitMqTransport({ url: 'amqp://guest:guest@127.0.0.1:5672' });
 * const bus = createBus({ transport, source: '/services/orders' });
 */
export class RabbitMqTransport implements Transport, DeadLetterAdmin {
  readonly name = 'rabbitmq';
  readonly headerNaming: HeaderNaming = AMQP_HEADER_NAMING;
  readonly names: TopologyNames;
  private readonly options: ResolvedOptions;
  private readonly logger: Logger;
  private readonly redact: (text: string) => string;
  private readonly broker: string;
  private readonly publishConnection: ManagedConnection;
  private readonly consumeConnection: ManagedConnection;
  private readonly publisher: ConfirmPublisher;
  private readonly topology: Topology;
  private readonly deadLetters: DeadLetterQueues;
  private readonly consumers = new Set<GroupConsumer>();
  private exchangesReady: Promise<void> | undefined;
  /** `exchangesReady` once it resolved: publishes then skip waiting for it. */
  private exchangesDeclared: Promise<void> | undefined;
  /** Publishes waiting for the exchanges: later ones wait behind them, in call order. */
  private waitingForExchanges = 0;
  private publishUsed = false;
  private closing: Promise<void> | undefined;

  constructor(options: RabbitMqTransportOptions) {
    this.options = resolveOptions(options);
    this.logger = options.logger ?? silentLogger;
    const secrets = secretsOf(this.options.url);
    this.redact = (text) => redactSecrets(text, secrets);
    this.broker = describeBroker(this.options.url);
    this.names = new TopologyNames(
      this.options.exchange,
      this.options.alternateExchange,
      this.options.queuePrefix,
    );
    this.publishConnection = this.connection('publish');
    this.consumeConnection = this.connection('consume');
    this.publisher = new ConfirmPublisher(this.publishConnection, {
      timeoutMs: this.options.publishTimeoutMs,
      maxInFlight: this.options.maxInFlight,
      maxQueued: this.options.maxQueued,
      failFastWhenBlocked: this.options.failFastWhenBlocked,
      redact: this.redact,
      logger: this.logger,
      // Publishing to an exchange that was deleted closes the channel with 404:
      // declare the exchanges again before the next publish.
      onChannelError: (error) => {
        if ((error as { code?: unknown }).code === 404) this.exchangesReady = undefined;
      },
    });
    this.topology = new Topology({
      names: this.names,
      queueType: this.options.queueType,
      deliveryLimit: this.options.deliveryLimit,
      singleActiveConsumer: this.options.singleActiveConsumer,
      retryTiersMs: this.options.retryTiersMs,
      unroutable: this.options.unroutable,
    });
    this.deadLetters = new DeadLetterQueues({
      connection: this.publishConnection,
      names: this.names,
      connectTimeoutMs: this.options.connectTimeoutMs,
      publishTimeoutMs: this.options.publishTimeoutMs,
      maxBrowse: 100_000,
    });
  }

  /** Connects the publishing side and declares the exchanges. */
  async connect(): Promise<void> {
    this.assertOpen();
    await this.exchanges();
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return;
    const exchange = this.names.exchange;
    const mandatory = this.options.unroutable === 'reject';
    const items: PublishItem[] = [];
    // Messages of one type (a batch, usually) share their target.
    let target: PublishTarget | undefined;
    for (const { channel, type, message } of messages) {
      if (typeof channel !== 'string' || channel === '') {
        throw new InvalidOptionsError('Every outgoing message needs a channel');
      }
      if (target?.routingKey !== type) target = { exchange, routingKey: type, mandatory };
      const out = toAmqp(message, channel, type, this.headerNaming);
      items.push({ target, content: out.content, properties: out.properties });
    }
    // A batch waits whole or not at all: without room for all of it, nothing is
    // sent. Checked again after the exchanges, right before the messages queue.
    const first = items[0] as PublishItem;
    this.publisher.admit(items.length, first.target, first.properties);
    // One deadline for the whole publish, connecting and declaring the exchanges included.
    const deadline = Date.now() + this.options.publishTimeoutMs;
    // Once the exchanges are declared, no await: the messages queue now. Not
    // while an earlier publish still waits for them, which must queue first.
    if (
      this.exchangesReady === undefined ||
      this.exchangesReady !== this.exchangesDeclared ||
      this.waitingForExchanges > 0
    ) {
      this.waitingForExchanges++;
      try {
        await this.exchangesBefore(deadline);
      } finally {
        this.waitingForExchanges--;
      }
      this.publisher.admit(items.length, first.target, first.properties);
    }
    await this.publisher.publishAll(items, deadline);
  }

  /**
   * The exchanges, declared by `deadline`, or a retryable PublishError
   * (EDAKIT_PUBLISH_FAILED). A topology mismatch (a configuration error) and a
   * closed transport keep their own errors.
   */
  private async exchangesBefore(deadline: number): Promise<void> {
    const ms = Math.max(1, deadline - Date.now());
    try {
      await withTimeout(this.exchanges(ms), ms, () => {
        // publishTimeoutMs below connectTimeoutMs (the defaults) ends here
        // first: say why there is no connection (TLS, login), not just "timed out".
        const { connected, lastError } = this.publishConnection.state;
        return new Error(
          connected
            ? `the exchanges were not declared within ${this.options.publishTimeoutMs} ms`
            : `RabbitMQ at ${this.broker} is not reachable${lastError ? `: ${lastError}` : ''}`,
        );
      });
    } catch (error) {
      if (
        EdakitError.isInstance(error) &&
        (error.code === ErrorCodes.INVALID_OPTIONS || error.code === ErrorCodes.TRANSPORT_CLOSED)
      ) {
        throw error;
      }
      throw new PublishError(
        `Could not publish to exchange "${this.names.exchange}" within ${this.options.publishTimeoutMs} ms: ${this.redact(messageOf(error))}; nothing was sent`,
        { cause: error, context: { exchange: this.names.exchange, broker: this.broker } },
      );
    }
  }

  async subscribe(subscription: TransportSubscription): Promise<TransportConsumer> {
    this.assertOpen();
    const consumer = new GroupConsumer({
      subscription,
      connection: this.consumeConnection,
      publisher: this.publisher,
      topology: this.topology,
      prefetch: this.options.prefetch ?? subscription.concurrency,
      connectTimeoutMs: this.options.connectTimeoutMs,
      reconnectDelayMs: this.options.reconnectDelayMs,
      maxReconnectDelayMs: this.options.maxReconnectDelayMs,
      stopTimeoutMs: this.options.stopTimeoutMs,
      redact: this.redact,
      logger: this.logger,
    });
    this.consumers.add(consumer);
    try {
      await consumer.start();
    } catch (error) {
      this.consumers.delete(consumer);
      throw error;
    }
    return {
      stop: async () => {
        await consumer.stop();
        this.consumers.delete(consumer);
      },
    };
  }

  /**
   * Stops every consumer (in-flight handlers finish or are released, their
   * outcomes settled), waits for outstanding confirms, then closes both
   * connections. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.consumers].map((consumer) => consumer.stop()));
      this.consumers.clear();
      await this.publisher.close();
      await Promise.all([this.publishConnection.close(), this.consumeConnection.close()]);
    })();
    return this.closing;
  }

  async health(): Promise<TransportHealth> {
    const consumers = [...this.consumers].map((consumer) => consumer.state);
    const publishing = this.publishConnection.state;
    const consuming = this.consumeConnection.state;
    const connections = { publish: publishing, consume: consuming };
    if (this.closing) {
      return { status: 'down', details: { closed: true, broker: this.broker }, consumers };
    }
    const needed = [
      ...(this.publishUsed ? [publishing] : []),
      ...(consumers.length > 0 ? [consuming] : []),
    ];
    let queues: Record<string, QueueStats | 'missing'> | undefined;
    let queuesError: string | undefined;
    const model = this.consumeConnection.isConnected
      ? await this.consumeConnection.get().catch(() => undefined)
      : undefined;
    if (model && consumers.length > 0) {
      const names = [
        ...consumers.flatMap((consumer) =>
          this.names.queuesOf(consumer.group, this.options.retryTiersMs),
        ),
        ...(this.options.unroutable === 'alternate' ? [this.names.unroutableQueue] : []),
      ];
      try {
        queues = await queueStats(model, names, 2_000);
      } catch (error) {
        queuesError = this.redact(messageOf(error));
      }
    }
    const details = {
      broker: this.broker,
      connections,
      consumers,
      publisher: {
        pending: this.publisher.pending,
        queued: this.publisher.queued,
        failures: this.publisher.failures,
      },
      ...(queues ? { queues } : {}),
      ...(queuesError ? { queuesError } : {}),
    };
    const backlog = queues ? this.backlogOf(consumers, queues) : undefined;
    if (needed.length === 0 || needed.every((state) => !state.connected)) {
      return { status: 'down', details, consumers, backlog };
    }
    const degraded =
      needed.some((state) => !state.connected || state.blocked) ||
      consumers.some((consumer) => !consumer.running);
    return { status: degraded ? 'degraded' : 'up', details, consumers, backlog };
  }

  /** Ready messages of every queue health read, with the group and role of each. */
  private backlogOf(
    consumers: readonly { readonly group: string }[],
    queues: Readonly<Record<string, QueueStats | 'missing'>>,
  ): BacklogFigure[] {
    const figures: BacklogFigure[] = [];
    const add = (name: string, group: string | undefined, role: BacklogFigure['role']): void => {
      const stats = queues[name];
      if (stats === undefined || stats === 'missing') return;
      figures.push({ kind: 'queue', group, name, messages: stats.messages, role });
    };
    for (const { group } of consumers) {
      add(this.names.queue(group), group, 'work');
      for (const tier of this.options.retryTiersMs) {
        add(this.names.retry(group, tier), group, 'retry');
      }
      add(this.names.deadLetter(group), group, 'dead-letter');
    }
    add(this.names.unroutableQueue, undefined, 'unroutable');
    return figures;
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    this.assertOpen();
    this.publishUsed = true;
    return this.deadLetters.list(query.group, query.channel, query.limit);
  }

  async redriveDeadLetters(request: RedriveRequest): Promise<number> {
    this.assertOpen();
    this.publishUsed = true;
    return this.deadLetters.redrive(request.group, request.channel, request.ids);
  }

  /**
   * Declares the exchanges once (shared by concurrent callers). Bounded by
   * `connectTimeoutMs` (or `timeoutMs`, if longer), declaring included, so a
   * broker that stops answering never leaves it pending; a failure is
   * forgotten, so the next call tries again.
   */
  private exchanges(timeoutMs = this.options.connectTimeoutMs): Promise<void> {
    this.publishUsed = true;
    if (!this.exchangesReady) {
      const limit = Math.max(timeoutMs, this.options.connectTimeoutMs);
      const started = Date.now();
      const ready: Promise<void> = (async () => {
        const model = await this.publishConnection.get(limit);
        await withTimeout(
          this.topology.declareExchanges(model),
          Math.max(1, limit - (Date.now() - started)),
          () =>
            new BrokerUnavailableError(
              `RabbitMQ at ${this.broker} did not declare the exchanges within ${limit} ms`,
              { broker: this.broker, exchange: this.names.exchange },
            ),
        );
      })().then(
        () => {
          if (this.exchangesReady === ready) this.exchangesDeclared = ready;
        },
        (error: unknown) => {
          if (this.exchangesReady === ready) this.exchangesReady = undefined;
          throw error;
        },
      );
      this.exchangesReady = ready;
    }
    return this.exchangesReady;
  }

  private connection(role: ConnectionRole): ManagedConnection {
    return new ManagedConnection({
      role,
      url: this.options.url,
      socketOptions: this.options.socketOptions,
      connectTimeoutMs: this.options.connectTimeoutMs,
      connectionName: this.options.connectionName,
      heartbeatSeconds: this.options.heartbeatSeconds,
      reconnectDelayMs: this.options.reconnectDelayMs,
      maxReconnectDelayMs: this.options.maxReconnectDelayMs,
      broker: this.broker,
      redact: this.redact,
      logger: this.logger,
    });
  }

  private assertOpen(): void {
    if (this.closing) throw new TransportClosedError(this.name);
  }
}
