import { randomUUID } from 'node:crypto';
import { KafkaTransport, type KafkaTransportOptions } from '@edakit/transport-kafka';
import { type Admin, Kafka, logLevel } from 'kafkajs';

/** The test broker (scripts/services up kafka). */
export const kafkaBrokers = (process.env.EDAKIT_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

/** A Kafka transport on the test broker whose topics all start with `prefix`. */
export function kafkaTransport(
  prefix: string,
  overrides: Partial<KafkaTransportOptions> = {},
): KafkaTransport {
  return new KafkaTransport({
    client: {
      clientId: `edakit-outbox-${randomUUID().slice(0, 8)}`,
      brokers: kafkaBrokers,
      retry: { retries: 8, initialRetryTime: 100 },
    },
    topicPrefix: prefix,
    topics: { partitions: 3, replicationFactor: 1 },
    retryTiersMs: [1_000],
    ...overrides,
  });
}

/** A raw kafkajs client (not edakit), to read topics as any consumer does. */
export function rawKafka(): Kafka {
  return new Kafka({
    clientId: `edakit-outbox-raw-${randomUUID().slice(0, 8)}`,
    brokers: kafkaBrokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100 },
  });
}

export interface TopicRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | undefined;
  /** The CloudEvents id header (`ce_id`). */
  readonly id: string;
  readonly headers: Record<string, string>;
  readonly value: Buffer;
}

/**
 * Every record of `topic`, from the beginning up to the high watermarks as
 * they are when this is called, in partition order (a throw-away group, no
 * offsets committed). Duplicates are kept: this is what a consumer would see.
 */
export async function readWholeTopic(
  kafka: Kafka,
  topic: string,
  { timeoutMs = 60_000 }: { timeoutMs?: number } = {},
): Promise<TopicRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, number>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.map((entry) => [entry.partition, Number(entry.high)]));
  } finally {
    await admin.disconnect();
  }
  const expected = [...ends.values()].reduce((sum, high) => sum + high, 0);
  const records: TopicRecord[] = [];
  if (expected === 0) return records;
  const reached = new Set<number>();
  for (const [partition, high] of ends) if (high === 0) reached.add(partition);
  const consumer = kafka.consumer({
    groupId: `edakit-outbox-reader-${randomUUID()}`,
    allowAutoTopicCreation: false,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        const high = ends.get(batch.partition) ?? 0;
        for (const message of batch.messages) {
          const offset = Number(message.offset);
          if (offset >= high) continue;
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) {
            if (value !== undefined) headers[name] = String(value);
          }
          records.push({
            partition: batch.partition,
            offset,
            key: message.key?.toString(),
            id: headers.ce_id ?? '',
            headers,
            value: message.value ?? Buffer.alloc(0),
          });
          if (offset >= high - 1) reached.add(batch.partition);
        }
        if (reached.size === ends.size) finish();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `read ${records.length} of ${expected} records of ${topic} within ${timeoutMs} ms`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** Deletes every topic whose name starts with `prefix` (best effort). */
export async function deleteTopics(kafka: Kafka, prefix: string): Promise<void> {
  let admin: Admin | undefined;
  try {
    admin = kafka.admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
  } catch {
    // Left behind: the names are unique per run.
  } finally {
    await admin?.disconnect().catch(() => undefined);
  }
}
