import { silentLogger, type TransportSubscription } from '@edakit/core';
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaGroupConsumer } from '../../src/kafka-group-consumer';
import type { KafkaPublisher } from '../../src/kafka-publisher';
import { TopicNames } from '../../src/topic-names';

/**
 * On the 3-broker cluster, kafkajs's consumer.subscribe() failed with
 * UNKNOWN_TOPIC_OR_PARTITION right after the transport created the topics
 * through another broker (cluster-failover.test.ts, CI 2026-11-22): subscribe
 * must wait for the broker's metadata; other errors still reject.
 */
const protocolError = (type: string) => Object.assign(new Error(type), { type });

function fakeKafka(subscribeErrors: Error[]) {
  const calls = { subscribe: 0, run: 0 };
  const consumer = {
    events: { CRASH: 'crash', GROUP_JOIN: 'join', REBALANCING: 'rebalancing' },
    on: () => undefined,
    connect: async () => undefined,
    subscribe: async () => {
      const error = subscribeErrors[calls.subscribe++];
      if (error) throw error;
    },
    run: async () => {
      calls.run++;
    },
    disconnect: async () => undefined,
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
    expect(calls).toEqual({ subscribe: 3, run: 1 });
  });

  it('still rejects at once on other errors', async () => {
    const { kafka, calls } = fakeKafka([protocolError('GROUP_AUTHORIZATION_FAILED')]);
    await expect(groupConsumer(kafka).start()).rejects.toThrow('GROUP_AUTHORIZATION_FAILED');
    expect(calls).toEqual({ subscribe: 1, run: 0 });
  });
});
