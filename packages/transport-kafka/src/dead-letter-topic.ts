import { randomUUID } from 'node:crypto';
import {
  type DeadLetter,
  DeadLetterNotFoundError,
  headersForRedrive,
  readDeadLetterInfo,
} from '@edakit/core';
import type { Admin, Kafka } from 'kafkajs';
import { recordSize } from './kafka-group-consumer';
import { REDRIVEN_HEADER, RETRY_DUE_AT_HEADER, readHeaders } from './kafka-headers';
import type { KafkaPublisher, OutgoingRecord } from './kafka-publisher';
import type { TopicNames } from './topic-names';

/**
 * Reads and redrives `<topic>.dlq`. A Kafka topic is append-only, so a redrive
 * appends a marker record naming the dead letter it sent back; listing skips
 * dead letters that have one.
 */
export class DeadLetterTopics {
  constructor(
    private readonly kafka: Kafka,
    private readonly admin: () => Promise<Admin>,
    private readonly publisher: KafkaPublisher,
    private readonly names: TopicNames,
    private readonly retryTiersMs: readonly number[],
  ) {}

  async list(
    group: string,
    channels: readonly string[],
    limit = Number.POSITIVE_INFINITY,
  ): Promise<DeadLetter[]> {
    const deadLetters: DeadLetter[] = [];
    for (const channel of channels) {
      for (const deadLetter of await this.read(this.names.deadLetter(channel))) {
        if (deadLetter.info.group === group) deadLetters.push(deadLetter);
      }
    }
    return deadLetters.slice(0, limit);
  }

  /**
   * Sends dead letters back to the group that failed them, through its
   * shortest retry topic (due at once): only that group sees the event again,
   * with the same event id and without the failure headers.
   */
  async redrive(
    group: string,
    channels: readonly string[],
    ids: readonly string[] | undefined,
  ): Promise<number> {
    const available = await this.list(group, channels);
    const byId = new Map(available.map((deadLetter) => [deadLetter.id, deadLetter]));
    const chosen =
      ids === undefined
        ? available
        : ids.map((id) => {
            const found = byId.get(id);
            if (!found) throw new DeadLetterNotFoundError(id, { group });
            return found;
          });
    const tier = Math.min(...this.retryTiersMs);
    const records: OutgoingRecord[] = [];
    for (const deadLetter of chosen) {
      const channel =
        deadLetter.info.channel ?? this.names.channelOf(deadLetter.id.split('/')[0] ?? '');
      const headers = {
        ...headersForRedrive(deadLetter.message.headers),
        [RETRY_DUE_AT_HEADER]: String(Date.now()),
      };
      const value = Buffer.from(deadLetter.message.body);
      records.push({
        topic: this.names.retry(channel, group, tier),
        message: { key: deadLetter.message.key ?? null, value, headers },
        size: recordSize(value, headers),
      });
      const marker = { [REDRIVEN_HEADER]: deadLetter.id };
      records.push({
        topic: this.names.deadLetter(channel),
        message: { key: deadLetter.id, value: null, headers: marker },
        size: recordSize(new Uint8Array(), marker),
      });
    }
    await this.publisher.send(records);
    return chosen.length;
  }

  /** Every record of a DLQ topic up to its current end, markers applied. */
  private async read(topic: string): Promise<DeadLetter[]> {
    const admin = await this.admin();
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) return [];
    const ends = await admin.fetchTopicOffsets(topic);
    const remaining = new Map(
      ends
        .filter((end) => BigInt(end.high) > BigInt(end.low))
        .map((end) => [end.partition, BigInt(end.high)]),
    );
    if (remaining.size === 0) return [];
    const groupId = `edakit-dlq-reader-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false });
    const records: DeadLetter[] = [];
    const redriven = new Set<string>();
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const headers = readHeaders(message.headers);
              const marker = headers[REDRIVEN_HEADER];
              if (marker !== undefined) redriven.add(marker);
              else {
                records.push({
                  id: `${topic}/${partition}/${message.offset}`,
                  message: {
                    key: message.key?.toString('utf8'),
                    headers,
                    body: message.value ?? new Uint8Array(),
                  },
                  info: readDeadLetterInfo(headers),
                });
              }
              const high = remaining.get(partition);
              if (high !== undefined && BigInt(message.offset) + 1n >= high) {
                remaining.delete(partition);
                if (remaining.size === 0) resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return records.filter((record) => !redriven.has(record.id));
  }
}
