import {
  type BacklogFigure,
  type ContentMode,
  type DeadLetter,
  type DeadLetterAdmin,
  type DeadLetterQuery,
  defaultHeaderNaming,
  type HeaderNaming,
  InvalidOptionsError,
  type Logger,
  type OutgoingMessage,
  type RedriveRequest,
  resolveContentMode,
  silentLogger,
  type Transport,
  TransportClosedError,
  type TransportConsumer,
  type TransportHealth,
  type TransportSubscription,
} from '@edakit/core';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { consumerLag, type PartitionLag } from './consumer-lag';
import { DeadLetterTopics } from './dead-letter-topic';
import { KafkaGroupConsumer, recordSize } from './kafka-group-consumer';
import { KafkaPublisher, type OutgoingRecord } from './kafka-publisher';
import {
  DEFAULT_RETRY_TIERS_MS,
  type KafkaTransportOptions,
  type RetryMode,
} from './kafka-transport-options';
import { TopicNames } from './topic-names';
import { TopicProvisioner } from './topic-provisioner';

/**
 * edakit's Apache Kafka transport (kafkajs). The topic is the channel; the
 * record key is the partition key; CloudEvents attributes travel as `ce_*`
 * headers (the CloudEvents Kafka binding, binary mode), or with the data in
 * one JSON document (`contentMode: 'structured'`).
 *
 * @example
 * const transport = new KafkaTransport({ client: { clientId: 'orders', brokers: ['127.0.0.1:9092'] } });
 * const bus = createBus({ transport, source: '/services/orders' });
 */
export class KafkaTransport implements Transport, DeadLetterAdmin {
  readonly name = 'kafka';
  readonly headerNaming: HeaderNaming = defaultHeaderNaming;
  readonly contentMode: ContentMode;
  readonly names: TopicNames;
  private readonly kafka: Kafka;
  private readonly publisher: KafkaPublisher;
  private readonly provisioner: TopicProvisioner;
  private readonly deadLetterTopics: DeadLetterTopics;
  private readonly consumers = new Set<KafkaGroupConsumer>();
  private readonly retryTiersMs: readonly number[];
  private readonly retryMode: RetryMode;
  private readonly logger: Logger;
  private adminClient: Promise<Admin> | undefined;
  private closed = false;

  constructor(private readonly options: KafkaTransportOptions) {
    if (!options?.client?.brokers) {
      throw new InvalidOptionsError('KafkaTransport needs client.brokers, e.g. ["127.0.0.1:9092"]');
    }
    this.retryTiersMs = [...(options.retryTiersMs ?? DEFAULT_RETRY_TIERS_MS)].sort((a, b) => a - b);
    if (
      this.retryTiersMs.length === 0 ||
      this.retryTiersMs.some((tier) => !(Number.isSafeInteger(tier) && tier > 0))
    ) {
      throw new InvalidOptionsError(
        'retryTiersMs must be a non-empty list of positive integers (ms)',
      );
    }
    this.retryMode = options.retryMode ?? 'non-blocking';
    this.contentMode = resolveContentMode(options.contentMode, 'KafkaTransport');
    this.logger = options.logger ?? silentLogger;
    this.names = new TopicNames(options.topicPrefix ?? '');
    this.kafka = new Kafka({
      logLevel: options.logger ? logLevel.WARN : logLevel.NOTHING,
      ...options.client,
      logCreator: kafkaLogCreator(this.logger),
    });
    this.publisher = new KafkaPublisher(this.kafka, {
      compression: options.compression,
      maxBatchBytes: options.maxBatchBytes ?? 900 * 1024,
      logger: this.logger,
    });
    this.provisioner = new TopicProvisioner(() => this.admin(), options.topics ?? {});
    this.deadLetterTopics = new DeadLetterTopics(
      this.kafka,
      () => this.admin(),
      this.publisher,
      this.names,
      this.retryTiersMs,
    );
  }

  async connect(): Promise<void> {
    this.assertOpen();
    await this.admin();
  }

  /**
   * Creates the main, retry (for `groups`) and DLQ topics of `channels` that do
   * not exist yet, with the configured partitions and replication.
   */
  async ensureTopics(channels: readonly string[], groups: readonly string[] = []): Promise<void> {
    this.assertOpen();
    const topics = channels.flatMap((channel) => [
      this.names.main(channel),
      this.names.deadLetter(channel),
      ...(this.retryMode === 'non-blocking'
        ? groups.flatMap((group) =>
            this.retryTiersMs.map((tier) => this.names.retry(channel, group, tier)),
          )
        : []),
    ]);
    await this.provisioner.ensure(topics);
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return;
    if (this.options.provisionTopics ?? true) {
      await this.ensureTopics([...new Set(messages.map((outgoing) => outgoing.channel))]);
    }
    const records: OutgoingRecord[] = new Array(messages.length);
    // A batch is usually one channel: its topic name is built once, not per record.
    let lastChannel: string | undefined;
    let topic = '';
    for (let i = 0; i < messages.length; i++) {
      const { channel, message } = messages[i] as OutgoingMessage;
      if (channel !== lastChannel) {
        lastChannel = channel;
        topic = this.names.main(channel);
      }
      const body = message.body;
      // Core encodes bodies as Buffers: only other Uint8Arrays need a Buffer view.
      const value = Buffer.isBuffer(body)
        ? body
        : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      // kafkajs only reads the headers: core's object goes out as it is, uncopied.
      const headers = message.headers as Record<string, string>;
      records[i] = {
        topic,
        message: { key: message.key ?? null, value, headers },
        size: recordSize(value, headers) + (message.key?.length ?? 0),
      };
    }
    await this.publisher.send(records);
  }

  async subscribe(subscription: TransportSubscription): Promise<TransportConsumer> {
    this.assertOpen();
    if (this.options.provisionTopics ?? true)
      await this.ensureTopics(subscription.channels, [subscription.group]);
    const consumer = new KafkaGroupConsumer(this.kafka, {
      subscription,
      names: this.names,
      publisher: this.publisher,
      retryTiersMs: this.retryTiersMs,
      retryMode: this.retryMode,
      sessionTimeoutMs: this.options.sessionTimeoutMs ?? 30_000,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 3_000,
      maxWaitTimeMs: this.options.maxWaitTimeMs ?? 1_000,
      restartBackoffMs: this.options.restartBackoffMs ?? 500,
      logger: this.logger,
    });
    // Known before it starts, so close() stops a consumer still subscribing.
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((consumer) => consumer.stop()));
    this.consumers.clear();
    await this.publisher.close();
    const admin = this.adminClient;
    this.adminClient = undefined;
    await (await admin?.catch(() => undefined))?.disconnect();
  }

  async health(): Promise<TransportHealth> {
    const consumers = [...this.consumers].map((consumer) => consumer.state);
    if (this.closed) return { status: 'down', details: { closed: true, consumers }, consumers };
    try {
      const admin = await this.admin();
      const cluster = await admin.describeCluster();
      const lag: Record<string, PartitionLag[]> = {};
      for (const consumer of consumers)
        lag[consumer.group] = await consumerLag(admin, consumer.group, consumer.topics);
      const stopped = consumers.filter((consumer) => !consumer.running);
      return {
        status: stopped.length > 0 ? 'degraded' : 'up',
        details: {
          brokers: cluster.brokers.length,
          producer: { connected: this.publisher.connected, recreated: this.publisher.recreated },
          consumers,
          lag,
        },
        consumers,
        backlog: Object.entries(lag).flatMap(([group, partitions]) =>
          partitions.map(
            (partition): BacklogFigure => ({
              kind: 'partition',
              group,
              name: partition.topic,
              partition: partition.partition,
              messages: partition.lag,
              role: this.isMainTopic(partition.topic) ? 'work' : 'retry',
            }),
          ),
        ),
      };
    } catch (error) {
      return {
        status: 'down',
        details: { error: (error as Error).message, consumers },
        consumers,
      };
    }
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    this.assertOpen();
    return this.deadLetterTopics.list(query.group, await this.channelsOf(query), query.limit);
  }

  async redriveDeadLetters(request: RedriveRequest): Promise<number> {
    this.assertOpen();
    const channels = await this.channelsOf(request);
    await this.ensureTopics(channels, [request.group]);
    return this.deadLetterTopics.redrive(request.group, channels, request.ids);
  }

  /** A channel's own topic, not one of its retry topics. */
  private isMainTopic(topic: string): boolean {
    return this.names.main(this.names.channelOf(topic)) === topic;
  }

  /** The query's channel, else every channel that has a DLQ topic (slow on big clusters). */
  private async channelsOf(query: DeadLetterQuery): Promise<string[]> {
    if (query.channel !== undefined) return [query.channel];
    const mine = [...this.consumers]
      .filter((c) => c.state.group === query.group)
      .flatMap((c) => c.topics);
    if (mine.length > 0) return [...new Set(mine.map((topic) => this.names.channelOf(topic)))];
    const topics = await (await this.admin()).listTopics();
    return topics
      .filter((topic) => topic.endsWith('.dlq') && topic.startsWith(this.options.topicPrefix ?? ''))
      .map((topic) => this.names.channelOf(topic));
  }

  private admin(): Promise<Admin> {
    this.adminClient ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })().catch((error: unknown) => {
      this.adminClient = undefined;
      throw error;
    });
    return this.adminClient;
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportClosedError(this.name);
  }
}

/** Routes kafkajs's own logs to the edakit logger; kafkajs never logs credentials. */
function kafkaLogCreator(logger: Logger) {
  return () =>
    ({ level, log }: { level: logLevel; log: { message: string; [key: string]: unknown } }) => {
      const { message, ...fields } = log;
      if (level <= logLevel.ERROR) logger.error({ ...fields, source: 'kafkajs' }, message);
      else if (level === logLevel.WARN) logger.warn({ ...fields, source: 'kafkajs' }, message);
      else if (level === logLevel.INFO) logger.info({ ...fields, source: 'kafkajs' }, message);
      else logger.debug({ ...fields, source: 'kafkajs' }, message);
    };
}
