import { silentLogger } from '@edakit/core';
import type { Kafka, Message, ProducerConfig, RecordMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaPublisher, type OutgoingRecord } from '../../src/kafka-publisher';

/**
 * kafkajs 2.2.4 can resolve sendBatch without writing some partitions (a retry
 * after a leader change skips brokers that answered before, kafkajs#1303):
 * the cluster-failover test lost acknowledged events that way. This fake
 * producer does exactly that on its first send; the publisher must notice and
 * send the skipped records again, each to the partition it was first given.
 */
function fakeKafka(skip: number[], { always = false } = {}, partitions = 3) {
  const sends: Array<Array<{ partition: number; value: string }>> = [];
  const kafka = {
    producer(config: ProducerConfig) {
      const partitioner = config.createPartitioner?.();
      if (!partitioner) throw new Error('expected a partitioner');
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionId,
        leader: 1,
        replicas: [1],
        isr: [1],
        partitionErrorCode: 0,
      }));
      return {
        connect: async () => undefined,
        disconnect: async () => undefined,
        sendBatch: async ({
          topicMessages,
        }: {
          topicMessages: Array<{ topic: string; messages: Message[] }>;
        }): Promise<RecordMetadata[]> => {
          const written: Array<{ partition: number; value: string }> = [];
          const metadata: RecordMetadata[] = [];
          for (const { topic, messages } of topicMessages) {
            const byPartition = new Set<number>();
            for (const message of messages) {
              // kafkajs calls the partitioner on every attempt; simulate two attempts.
              partitioner({ topic, partitionMetadata, message });
              const partition = partitioner({ topic, partitionMetadata, message });
              if ((always || sends.length === 0) && skip.includes(partition)) continue;
              written.push({ partition, value: String(message.value) });
              byPartition.add(partition);
            }
            for (const partition of byPartition) {
              metadata.push({ topicName: topic, partition, errorCode: 0 });
            }
          }
          sends.push(written);
          return metadata;
        },
      };
    },
  } as unknown as Kafka;
  return { kafka, sends };
}

const records = (count: number, keyless = false): OutgoingRecord[] =>
  Array.from({ length: count }, (_, index) => ({
    topic: 't',
    message: { key: keyless ? null : `key-${index}`, value: `v${index}` },
    size: 10,
  }));

describe('KafkaPublisher: partitions kafkajs reports done without writing', () => {
  for (const keyless of [false, true]) {
    it(`sends the skipped records again (${keyless ? 'no keys' : 'keyed'})`, async () => {
      const { kafka, sends } = fakeKafka([1]);
      const publisher = new KafkaPublisher(kafka, { maxBatchBytes: 1e9, logger: silentLogger });
      const batch = records(30, keyless);
      await publisher.send(batch);

      expect(sends).toHaveLength(2);
      const [first, second] = sends;
      expect(first?.some((record) => record.partition === 1)).toBe(false);
      expect(second?.length).toBeGreaterThan(0);
      expect(second?.every((record) => record.partition === 1)).toBe(true);
      // Every record written exactly once, in its original order per partition.
      const all = [...(first ?? []), ...(second ?? [])];
      expect(all.map((record) => record.value).sort()).toEqual(
        batch.map((record) => String(record.message.value)).sort(),
      );
      for (const partition of [0, 1, 2]) {
        const values = all.filter((r) => r.partition === partition).map((r) => r.value);
        const order = batch.map((r) => String(r.message.value)).filter((v) => values.includes(v));
        expect(values).toEqual(order);
      }
    });
  }

  it('rejects with a typed error when the records are never confirmed', async () => {
    const { kafka, sends } = fakeKafka([0, 1, 2], { always: true });
    const publisher = new KafkaPublisher(kafka, { maxBatchBytes: 1e9, logger: silentLogger });
    await expect(publisher.send(records(3))).rejects.toMatchObject({
      code: 'EDAKIT_PUBLISH_FAILED',
    });
    // The first send and a bounded number of re-sends.
    expect(sends).toHaveLength(6);
  });
});
