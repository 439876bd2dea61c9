import { randomUUID } from 'node:crypto';
import { waitFor } from '@edakit/core/testing';
import {
  type Admin,
  type IHeaders,
  Kafka,
  type KafkaConfig,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { sleep } from '../../../../test-support/bus';
import { readHeaders } from '../../src/kafka-headers';
import { brokers as singleBrokers } from './kafka-broker';

export {
  capturingLogger,
  type LogEntry,
  namespace,
  sleep,
  startHealthy,
  stopAll,
} from '../../../../test-support/bus';

export { readHeaders };

/** A raw kafkajs client (not edakit), for writing and reading bytes as other producers do. */
export function rawKafka(
  brokers: readonly string[] = singleBrokers,
  extra: Partial<KafkaConfig> = {},
): Kafka {
  return new Kafka({
    clientId: `edakit-raw-${randomUUID().slice(0, 8)}`,
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100 },
    ...extra,
  });
}

export async function rawProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return producer;
}

export async function rawAdmin(kafka: Kafka): Promise<Admin> {
  const admin = kafka.admin();
  await admin.connect();
  return admin;
}

/**
 * A topic whose dead-letter topic refuses dead letters (max.message.bytes
 * 1 KiB): settling a poison message there fails, so its consumer crashes.
 */
export async function createTopicWithFullDlq(kafka: Kafka, topic: string): Promise<void> {
  const admin = await rawAdmin(kafka);
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: 1 },
        {
          topic: `${topic}.dlq`,
          numPartitions: 1,
          configEntries: [{ name: 'max.message.bytes', value: '1024' }],
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

export interface ReadRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly rawHeaders: IHeaders | undefined;
  readonly headers: Record<string, string>;
}

/**
 * Reads `topic` from the beginning with a throw-away group until `count`
 * records arrived (or the timeout), then waits `settleMs` more to catch extras.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  { timeoutMs = 30_000, settleMs = 0 }: { timeoutMs?: number; settleMs?: number } = {},
): Promise<ReadRecord[]> {
  const groupId = `edakit-reader-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: 6_000,
    heartbeatInterval: 500,
    // A short long-poll: disconnect waits for the fetch in flight.
    maxWaitTimeInMs: 100,
  });
  const records: ReadRecord[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic: from, partition, message }) => {
        records.push({
          topic: from,
          partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
          rawHeaders: message.headers,
          headers: readHeaders(message.headers),
        });
      },
    });
    await waitFor(() => records.length >= count, {
      timeoutMs,
      intervalMs: 50,
      description: `${count} record(s) on ${topic} (got ${records.length})`,
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; read ${records.length}`);
    });
    if (settleMs > 0) await sleep(settleMs);
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return records;
}

/** The partition kafkajs's default (Java-compatible murmur2) partitioner gives `key`. */
export function partitionOf(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  return partitioner({
    topic: 'any',
    partitionMetadata: Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      partitionErrorCode: 0,
    })),
    message: { key, value: null },
  });
}

/** Every message of an error and of its cause chain (and AggregateError members). */
export function errorMessages(error: unknown, seen = new Set<unknown>()): string[] {
  if (error === undefined || error === null || seen.has(error)) return [];
  seen.add(error);
  if (typeof error !== 'object') return [String(error)];
  const messages: string[] = [];
  const { message, cause, errors, originalError } = error as {
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
    originalError?: unknown;
  };
  if (typeof message === 'string') messages.push(message);
  messages.push(...errorMessages(cause, seen), ...errorMessages(originalError, seen));
  if (Array.isArray(errors))
    for (const inner of errors) messages.push(...errorMessages(inner, seen));
  return messages;
}

/**
 * Writes, with a raw producer, one event too large for a bus with
 * `maxMessageBytes: 2048` and for a DLQ topic of 1 KiB: the consumer can
 * neither handle nor dead-letter it, and crashes.
 */
export async function sendOversizedEvent(kafka: Kafka, topic: string, type: string): Promise<void> {
  const producer = await rawProducer(kafka);
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: [
        {
          key: 'k',
          value: JSON.stringify({ key: 'k', seq: 0, note: 'x'.repeat(4096) }),
          headers: { ce_id: 'big-1', ce_type: type, ce_source: '/raw', ce_specversion: '1.0' },
        },
      ],
    });
  } finally {
    await producer.disconnect();
  }
}
