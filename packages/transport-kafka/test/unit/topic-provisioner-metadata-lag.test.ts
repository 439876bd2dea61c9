import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { TopicProvisioner } from '../../src/topic-provisioner';

/**
 * On the 3-broker cluster, kafkajs's createTopics({ waitForLeaders: true })
 * sometimes rejected with UNKNOWN_TOPIC_OR_PARTITION although the topic was
 * created (its wait for leaders asked a broker that had not seen it yet), which
 * failed subscribe() in cluster-failover.test.ts. The provisioner must wait
 * for the metadata instead; other errors still reject.
 */
function fakeAdmin(createError: Error & { type?: string }) {
  const calls = { create: 0, metadata: 0 };
  const admin = {
    listTopics: async () => [],
    createTopics: async () => {
      calls.create++;
      throw createError;
    },
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      calls.metadata++;
      // Not everywhere yet on the first look, then ready.
      const leader = calls.metadata === 1 ? -1 : 1;
      return { topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0, leader }] })) };
    },
  } as unknown as Admin;
  return { admin, calls };
}

const protocolError = (type: string) => Object.assign(new Error(type), { type });

describe('TopicProvisioner on a cluster whose metadata lags', () => {
  it('waits for the metadata when waitForLeaders reports UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const { admin, calls } = fakeAdmin(protocolError('UNKNOWN_TOPIC_OR_PARTITION'));
    const provisioner = new TopicProvisioner(async () => admin, {});
    await provisioner.ensure(['orders', 'orders.dlq']);
    expect(calls.create).toBe(1);
    expect(calls.metadata).toBe(2);
    // Known now: no second round trip.
    await provisioner.ensure(['orders']);
    expect(calls.create).toBe(1);
  });

  it('still rejects on other errors', async () => {
    const { admin } = fakeAdmin(protocolError('TOPIC_AUTHORIZATION_FAILED'));
    const provisioner = new TopicProvisioner(async () => admin, {});
    await expect(provisioner.ensure(['orders'])).rejects.toThrow('TOPIC_AUTHORIZATION_FAILED');
  });
});
