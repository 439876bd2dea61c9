import { type Logger, PublishError } from '@edakit/core';
import {
  type CompressionTypes,
  type ICustomPartitioner,
  type Kafka,
  type Message,
  Partitioners,
  type Producer,
  type RecordMetadata,
  type TopicMessages,
} from 'kafkajs';
import { hasKafkaErrorType } from './kafka-error-type';

/**
 * The partition a record was first given, kept on its message across kafkajs's
 * retries and our re-sends (see sendOnce). A property rather than a WeakMap
 * entry: cheaper to set and read, and nothing extra for the GC to trace.
 */
const PARTITION = Symbol('edakit.partition');
type PartitionedMessage = Message & { [PARTITION]?: number };

/** How often a send re-sends records kafkajs reported done without writing them. */
const MAX_UNSENT_RESENDS = 5;

/** Errors after which an idempotent producer cannot go on: it must be recreated (kafkajs#598). */
const FATAL_PRODUCER_ERRORS: ReadonlySet<string> = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'INVALID_PRODUCER_EPOCH',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
]);

export interface OutgoingRecord {
  readonly topic: string;
  readonly message: Message;
  /** Bytes the record adds to a request (value, key, headers). */
  readonly size: number;
}

/**
 * The transport's one producer: idempotent, acks from all in-sync replicas,
 * one request in flight (kafkajs#598). Sends resolve only once the broker
 * acknowledged. A fatal producer error recreates the producer.
 */
export class KafkaPublisher {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  recreated = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: {
      compression?: CompressionTypes | undefined;
      maxBatchBytes: number;
      logger: Logger;
    },
  ) {}

  /** Sends records in order, split into requests of at most maxBatchBytes. */
  send(records: readonly OutgoingRecord[]): Promise<void> {
    // One send at a time keeps order across calls and the single in-flight rule.
    const sending = this.queue.then(() => this.sendChunks(records));
    this.queue = sending.catch(() => undefined);
    return sending;
  }

  async close(): Promise<void> {
    await this.queue;
    const producer = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    await producer?.disconnect();
  }

  get connected(): boolean {
    return this.producer !== undefined;
  }

  private async sendChunks(records: readonly OutgoingRecord[]): Promise<void> {
    let chunk: OutgoingRecord[] = [];
    let bytes = 0;
    for (const record of records) {
      if (chunk.length > 0 && bytes + record.size > this.options.maxBatchBytes) {
        await this.sendOnce(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(record);
      bytes += record.size;
    }
    if (chunk.length > 0) await this.sendOnce(chunk);
  }

  private async sendOnce(
    records: readonly OutgoingRecord[],
    recreatedAlready = false,
    resends = 0,
  ): Promise<void> {
    const producer = await this.connect();
    const byTopic = new Map<string, Message[]>();
    for (const record of records) {
      const list = byTopic.get(record.topic) ?? [];
      list.push(record.message);
      byTopic.set(record.topic, list);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({
      topic,
      messages,
    }));
    let written: RecordMetadata[];
    try {
      written = await producer.sendBatch({
        topicMessages,
        acks: -1,
        compression: this.options.compression,
      });
    } catch (error) {
      if (!recreatedAlready && isFatalProducerError(error)) {
        this.options.logger.warn(
          { error: (error as Error).message },
          'kafka producer hit a fatal error: recreating it',
        );
        await this.recreate();
        return this.sendOnce(records, true, resends);
      }
      const first = records[0];
      throw new PublishError(
        `Kafka did not acknowledge ${records.length} message(s): ${(error as Error).message}`,
        {
          cause: error,
          context: { topic: first?.topic, count: records.length },
          retryable: isRetriable(error),
        },
      );
    }
    // kafkajs 2.2.4 can resolve a multi-partition send without writing some
    // partitions: when a retry follows a leader change, it skips every broker that
    // answered an earlier attempt, also for partitions that just moved to that
    // broker (kafkajs#1303). Records whose partition the broker did not confirm
    // were never sent: send them again.
    const confirmed = new Map<string, Set<number>>();
    for (const meta of written) {
      let partitions = confirmed.get(meta.topicName);
      if (!partitions) {
        partitions = new Set();
        confirmed.set(meta.topicName, partitions);
      }
      partitions.add(meta.partition);
    }
    const unsent = records.filter((record) => {
      const partition = (record.message as PartitionedMessage)[PARTITION];
      return partition === undefined || !confirmed.get(record.topic)?.has(partition);
    });
    if (unsent.length === 0) return;
    if (resends >= MAX_UNSENT_RESENDS) {
      throw new PublishError(
        `Kafka did not acknowledge ${unsent.length} of ${records.length} message(s) after ${resends} re-sends`,
        { context: { topic: unsent[0]?.topic, count: unsent.length }, retryable: true },
      );
    }
    this.options.logger.warn(
      { unsent: unsent.length, of: records.length },
      'kafka producer skipped partitions after a leader change: sending them again',
    );
    return this.sendOnce(unsent, recreatedAlready, resends + 1);
  }

  private connect(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: this.stickyPartitioner,
      });
      try {
        await producer.connect();
      } catch (error) {
        this.connecting = undefined;
        throw error;
      }
      this.producer = producer;
      return producer;
    })();
    return this.connecting;
  }

  /** kafkajs's default partitioner, remembering each record's first partition. */
  private readonly stickyPartitioner: ICustomPartitioner = () => {
    const partition = Partitioners.DefaultPartitioner();
    return (args) => {
      const message = args.message as PartitionedMessage;
      const known = message[PARTITION];
      if (known !== undefined) return known;
      const chosen = partition(args);
      message[PARTITION] = chosen;
      return chosen;
    };
  };

  private async recreate(): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    this.recreated++;
    await old?.disconnect().catch(() => undefined);
  }
}

function isFatalProducerError(error: unknown): boolean {
  return hasKafkaErrorType(error, FATAL_PRODUCER_ERRORS);
}

function isRetriable(error: unknown): boolean {
  return (error as { retriable?: unknown }).retriable !== false;
}
