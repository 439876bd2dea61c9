import { randomUUID } from 'node:crypto';
import { type Bus, createBus, type Logger, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  capturingLogger,
  namespace,
  rawAdmin,
  rawKafka,
  readTopic,
  startHealthy,
  stopAll,
} from '../support/integration';
import { clusterBrokers, servicesAsync } from '../support/kafka-broker';
import { testTransport } from '../support/kafka-factory';
import { publishThroughOutage } from '../support/outage';

const buses: Bus[] = [];

beforeAll(async () => {
  await servicesAsync('up', 'kafka-cluster');
}, 180_000);

afterAll(async () => {
  await stopAll(buses);
  // Node 2 is restarted by the test; make sure before stopping the cluster.
  await servicesAsync('down', 'kafka-cluster');
}, 180_000);

const clusterTransport = (logger?: Logger) =>
  testTransport({
    ...(logger ? { logger } : {}),
    client: {
      clientId: `edakit-cluster-${randomUUID().slice(0, 8)}`,
      brokers: clusterBrokers,
      retry: { retries: 8, initialRetryTime: 100 },
    },
    topics: { partitions: 3, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } },
  });

const EVENTS = 10_000;
const CHUNK = 100;
const KILL_AFTER = 3_000;

/**
 * A 3-broker cluster, topics with 3 replicas and min.insync.replicas=2: one
 * broker dies (SIGKILL) while 10 000 events are published. Publishing goes on
 * (a rejected publish is retried), and every acknowledged event is consumed.
 */
it('keeps publishing through the loss of one of three brokers, losing no acknowledged event', async () => {
  const ns = namespace('failover');
  const contract = conformanceContract(ns);
  const topic = contract.channel;
  const consumed = new Map<string, number>();

  const consumer = createBus({ transport: clusterTransport(), source: '/it/failover' });
  buses.push(consumer);
  consumer.subscribe({
    group: `${ns}-g`,
    startFrom: 'earliest',
    concurrency: 8,
    handlers: [
      on(contract, (event) => {
        consumed.set(event.id, (consumed.get(event.id) ?? 0) + 1);
      }),
    ],
  });
  await startHealthy(consumer, 90_000);

  // The topics the transport created are replicated as configured.
  const kafka = rawKafka(clusterBrokers);
  const admin = await rawAdmin(kafka);
  try {
    // Another broker than the one that created the topics may not know them for
    // a moment (its metadata cache lags): ask again until it does.
    const { topics } = await waitFor(
      () => admin.fetchTopicMetadata({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined),
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    for (const { partitions } of topics) {
      expect(partitions).toHaveLength(3);
      for (const partition of partitions) expect(partition.replicas.sort()).toEqual([1, 2, 3]);
    }
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] },
      ],
    });
    expect(configs.resources[0]?.configEntries[0]?.configValue).toBe('2');

    const publisherLog = capturingLogger();
    const publisher = createBus({
      transport: clusterTransport(publisherLog),
      source: '/it/failover',
    });
    buses.push(publisher);
    let killedAt = 0;
    const run = await publishThroughOutage(publisher, {
      events: EVENTS,
      chunk: CHUNK,
      outageAfter: KILL_AFTER,
      retryPauseMs: 300,
      prepare: (seq) => publisher.prepare(contract, { key: `key-${seq % 101}`, seq }),
      outage: async () => {
        await servicesAsync('kafka-node', 'kill', '2');
        killedAt = Date.now();
      },
    });
    const { acknowledged, rejections, acknowledgedAfterOutage: acknowledgedAfterKill } = run;

    // With node 2 dead, its partitions moved to the live nodes.
    const leaders = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = leaders.topics[0]?.partitions ?? [];
    expect(partitions.every((partition) => partition.leader !== 2)).toBe(true);

    const missing = () => [...acknowledged].filter((id) => !consumed.has(id));
    await waitFor(() => missing().length === 0, {
      timeoutMs: 30_000,
      intervalMs: 100,
      description: 'every acknowledged event consumed',
    }).catch(() => undefined);
    const duplicates = [...consumed.values()].reduce((sum, count) => sum + count - 1, 0);
    console.log(
      `cluster failover: killed node 2 after ${KILL_AFTER}+ acknowledged; ${acknowledgedAfterKill} acknowledged after the kill; ` +
        `all ${acknowledged.size} acknowledged after ${run.elapsedMs} ms; rejected publish calls: ${rejections.length} ` +
        `missing ${missing().length}; re-sends of partitions kafkajs skipped: ${
          publisherLog.entries.filter((entry) => entry.message.includes('skipped partitions'))
            .length
        }; ` +
        `${JSON.stringify(rejections.slice(0, 5))}; consumed ${consumed.size} (${duplicates} duplicate deliveries)`,
    );

    if (missing().length > 0) {
      const lost = new Set(missing());
      const offsets = await admin.fetchTopicOffsets(topic);
      const total = offsets.reduce((sum, o) => sum + Number(o.high), 0);
      const records = await readTopic(kafka, topic, total, { timeoutMs: 60_000 });
      const found = records.filter((r) => lost.has(r.headers.ce_id ?? ''));
      const committed = await admin.fetchOffsets({ groupId: `${ns}-g`, topics: [topic] });
      console.log(
        `DIAG: topic ends ${JSON.stringify(offsets)}; committed ${JSON.stringify(committed)}; ` +
          `missing found in topic: ${found.length}/${lost.size} at ${JSON.stringify(found.map((r) => [r.partition, r.offset]))}`,
      );
    }
    expect(killedAt).toBeGreaterThan(0);
    // Publishing went on after the broker died.
    expect(acknowledgedAfterKill).toBeGreaterThan(0);
    expect(acknowledged.size).toBe(EVENTS);
    expect(rejections.filter((code) => code !== 'EDAKIT_PUBLISH_FAILED')).toEqual([]);
    // Nothing acknowledged is lost; nothing unknown appears.
    expect(missing()).toEqual([]);
    for (const id of consumed.keys()) expect(acknowledged.has(id)).toBe(true);
  } finally {
    await admin.disconnect().catch(() => undefined);
    await stopAll(buses);
    await servicesAsync('kafka-node', 'start', '2');
  }
});
