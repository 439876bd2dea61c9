import {
  type DeadLetter,
  type DeadLetterAdmin,
  type DeadLetterQuery,
  type HeaderNaming,
  InvalidOptionsError,
  type Logger,
  type OutgoingMessage,
  type RedriveRequest,
  silentLogger,
  type Transport,
  TransportClosedError,
  type TransportConsumer,
  type TransportHealth,
  type TransportSubscription,
} from '@edakit/core';
import { AMQP_HEADER_NAMING, toAmqp } from './amqp-message';
import { messageOf } from './backoff';
import { ConfirmPublisher } from './confirm-publisher';
import { DeadLetterQueues } from './dead-letter-queue';
import { GroupConsumer } from './group-consumer';
import { type ConnectionRole, ManagedConnection } from './managed-connection';
import { queueStats } from './queue-stats';
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
      failFastWhenBlocked: this.options.failFastWhenBlocked,
      redact: this.redact,
      logger: this.logger,
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
    for (const outgoing of messages) {
      if (typeof outgoing.channel !== 'string' || outgoing.channel === '') {
        throw new InvalidOptionsError('Every outgoing message needs a channel');
      }
    }
    await this.exchanges();
    const target = {
      exchange: this.names.exchange,
      mandatory: this.options.unroutable === 'reject',
    };
    await Promise.all(
      messages.map(({ channel, type, message }) => {
        const out = toAmqp(message, channel, type, this.headerNaming);
        return this.publisher.publish({ ...target, routingKey: type }, out.content, out.properties);
      }),
    );
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
    if (this.closing) return { status: 'down', details: { closed: true, broker: this.broker } };
    const needed = [
      ...(this.publishUsed ? [publishing] : []),
      ...(consumers.length > 0 ? [consuming] : []),
    ];
    let queues: Record<string, unknown> | undefined;
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
      publisher: { pending: this.publisher.pending, failures: this.publisher.failures },
      ...(queues ? { queues } : {}),
      ...(queuesError ? { queuesError } : {}),
    };
    if (needed.length === 0 || needed.every((state) => !state.connected)) {
      return { status: 'down', details };
    }
    const degraded =
      needed.some((state) => !state.connected || state.blocked) ||
      consumers.some((consumer) => !consumer.running);
    return { status: degraded ? 'degraded' : 'up', details };
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

  private exchanges(): Promise<void> {
    this.publishUsed = true;
    this.exchangesReady ??= (async () => {
      const model = await this.publishConnection.get(this.options.connectTimeoutMs);
      await this.topology.declareExchanges(model);
    })().catch((error: unknown) => {
      this.exchangesReady = undefined;
      throw error;
    });
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
