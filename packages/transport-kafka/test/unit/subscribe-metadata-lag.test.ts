import { silentLogger, type TransportSubscription } from '@edakit/core';
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaGroupConsumer } from '../../src/kafka-group-consumer';
import type { KafkaPublisher } from '../../src/kafka-publisher';
import { retryWhileMetadataLags } from '../../src/metadata-lag';
import { TopicNames } from '../../src/topic-names';

/**
 * On the 3-broker cluster, kafkajs's consumer.subscribe() failed with
 * UNKNOWN_TOPIC_OR_PARTITION right after the transport created the topics
 * through another broker (cluster-failover.test.ts, CI 2026-11-22): subscribe
 * must wait for the broker's metadata; other errors still reject.
 */
const protocolError = (type: string) => Object.assign(new Error(type), { type });

function fakeKafka(subscribeErrors: readonly (Error | undefined)[] | ((call: number) => Error)) {
  const calls = { subscribe: 0, run: 0, disconnect: 0 };
  const consumer = {
    events: { CRASH: 'crash', GROUP_JOIN: 'join', REBALANCING: 'rebalancing' },
    on: () => undefined,
    connect: async () => undefined,
    subscribe: async () => {
      const call = calls.subscribe++;
      const error =
        typeof subscribeErrors === 'function' ? subscribeErrors(call) : subscribeErrors[call];
      if (error) throw error;
    },
    run: async () => {
      calls.run++;
    },
    disconnect: async () => {
      calls.disconnect++;
    },
  };
  return { kafka: { consumer: () => consumer } as unknown as Kafka, calls };
}

function groupConsumer(kafka: Kafka): KafkaGroupConsumer {
  const subscription: TransportSubscription = {
    group: 'billing',
    channels: ['orders'],
    types: ['orders.placed'],
    concurrency: 4,
    startFrom: 'earliest',
    handle: async () => ({ type: 'ack' }),
  };
  return new KafkaGroupConsumer(kafka, {
    subscription,
    names: new TopicNames(''),
    publisher: {} as KafkaPublisher,
    retryTiersMs: [100],
    retryMode: 'non-blocking',
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 500,
    maxWaitTimeMs: 100,
    restartBackoffMs: 100,
    logger: silentLogger,
  });
}

describe('KafkaGroupConsumer on a cluster whose metadata lags', () => {
  it('subscribes again while the broker does not know the new topics yet', async () => {
    const lag = [
      protocolError('UNKNOWN_TOPIC_OR_PARTITION'),
      protocolError('LEADER_NOT_AVAILABLE'),
    ];
    const { kafka, calls } = fakeKafka(lag);
    await groupConsumer(kafka).start();
    expect(calls).toEqual({ subscribe: 3, run: 1, disconnect: 0 });
  });

  it('still rejects at once on other errors, and disconnects the consumer it could not start', async () => {
    const { kafka, calls } = fakeKafka([protocolError('TOPIC_AUTHORIZATION_FAILED')]);
    await expect(groupConsumer(kafka).start()).rejects.toThrow('TOPIC_AUTHORIZATION_FAILED');
    expect(calls).toEqual({ subscribe: 1, run: 0, disconnect: 1 });
  });

  it('does not start a consumer that was stopped while it subscribed', async () => {
    const { kafka, calls } = fakeKafka([protocolError('UNKNOWN_TOPIC_OR_PARTITION')]);
    const consumer = groupConsumer(kafka);
    const starting = consumer.start();
    // stop() lands during the pause before the second attempt, which succeeds.
    await new Promise((resolve) => setTimeout(resolve, 30));
    await consumer.stop();
    await starting;
    expect(calls.subscribe).toBe(2);
    expect(calls.run).toBe(0);
    expect(calls.disconnect).toBeGreaterThanOrEqual(2);
  });

  it('gives up when the consumer is stopping, without waiting for the deadline', async () => {
    const { kafka, calls } = fakeKafka(() => protocolError('UNKNOWN_TOPIC_OR_PARTITION'));
    const consumer = groupConsumer(kafka);
    const starting = consumer.start().catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const stoppedAt = Date.now();
    await consumer.stop();
    expect(await starting).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(Date.now() - stoppedAt).toBeLessThan(1_000);
    expect(calls.run).toBe(0);
    expect(calls.subscribe).toBeLessThan(6);
  });
});

describe('retryWhileMetadataLags', () => {
  it('throws the last metadata-lag error once the deadline has passed', async () => {
    let attempts = 0;
    const startedAt = Date.now();
    const failing = retryWhileMetadataLags(
      async () => {
        attempts++;
        throw protocolError('UNKNOWN_TOPIC_OR_PARTITION');
      },
      { deadlineMs: 300, intervalMs: 50 },
    );
    await expect(failing).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(7);
  });
});
