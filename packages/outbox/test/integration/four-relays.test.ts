import { createBus } from '@edakit/core';
import { uniqueNamespace, waitFor } from '@edakit/core/testing';
import type { KafkaTransport } from '@edakit/transport-kafka';
import type pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { createPostgresOutbox, createRelay, type Relay } from '../../src';
import { fillOutbox } from '../fixtures/fill';
import { deleteTopics, kafkaTransport, rawKafka, readWholeTopic } from '../support/kafka';
import { createPool, dropTables, OrderPlaced, uniqueTable } from '../support/postgres';

const AGGREGATES = 1_000;
const PER_AGGREGATE = 100;
const EVENTS = AGGREGATES * PER_AGGREGATE;
const RELAYS = 4;
const PARTITIONS = 4;

const ns = uniqueNamespace('obxfour');
const topicPrefix = `${ns}.`;
const topic = `${topicPrefix}${OrderPlaced.channel}`;
const table = uniqueTable('obx_four');
const pools: pg.Pool[] = [];
const transports: KafkaTransport[] = [];
const relays: Relay[] = [];

afterAll(async () => {
  await Promise.all(relays.map((relay) => relay.stop()));
  await Promise.all(transports.map((transport) => transport.close().catch(() => undefined)));
  if (pools[0]) await dropTables(pools[0], table).catch(() => undefined);
  await Promise.all(pools.map((pool) => pool.end()));
  await deleteTopics(rawKafka(), topicPrefix);
});

it('four relays publish 100k rows of 1k aggregates once each, every aggregate in sequence order', async () => {
  const pool = createPool(8, `${ns}-test`);
  pools.push(pool);
  const writerTransport = kafkaTransport(topicPrefix, {
    topics: { partitions: PARTITIONS, replicationFactor: 1 },
  });
  transports.push(writerTransport);
  const bus = createBus({ transport: writerTransport, source: '/it/outbox-four-relays' });
  const outbox = createPostgresOutbox({ pool, bus, table });
  await outbox.migrate();
  await writerTransport.ensureTopics([OrderPlaced.channel]);

  // Aggregate a's event n is its version n; writers interleave aggregates.
  const fillStarted = Date.now();
  const items = [];
  for (let n = 1; n <= PER_AGGREGATE; n++) {
    for (let a = 0; a < AGGREGATES; a++) {
      items.push({ data: { orderId: `agg-${a}`, n }, options: { sequence: n } });
    }
  }
  const ids = await fillOutbox(outbox, OrderPlaced, items, {
    writers: 8,
    perTransaction: 500,
    writerOf: (item) => Number(item.data.orderId.slice(4)),
  });
  const fillMs = Date.now() - fillStarted;
  expect(new Set(ids).size).toBe(EVENTS);

  // Four relays, each with its own pool and its own Kafka producer.
  const relayStarted = Date.now();
  for (let r = 0; r < RELAYS; r++) {
    const relayPool = createPool(2, `${ns}-relay-${r}`);
    pools.push(relayPool);
    const transport = kafkaTransport(topicPrefix, {
      topics: { partitions: PARTITIONS, replicationFactor: 1 },
    });
    transports.push(transport);
    const relay = createRelay({
      store: createPostgresOutbox({ pool: relayPool, bus, table }).store,
      transport,
      batchSize: 500,
      pollIntervalMs: 100,
    });
    relays.push(relay);
    relay.start();
  }
  await waitFor(async () => (await outbox.store.stats()).pending === 0, {
    timeoutMs: 180_000,
    intervalMs: 100,
    description: 'four relays to publish every row',
  });
  const relayMs = Date.now() - relayStarted;
  await Promise.all(relays.map((relay) => relay.stop()));
  const perRelay = relays.map((relay) => relay.metrics());

  const readStarted = Date.now();
  const records = await readWholeTopic(rawKafka(), topic, { timeoutMs: 120_000 });
  const readMs = Date.now() - readStarted;

  // Each id exactly once.
  const counts = new Map<string, number>();
  for (const record of records) counts.set(record.id, (counts.get(record.id) ?? 0) + 1);
  expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
  expect(records).toHaveLength(EVENTS);

  // Per aggregate: one partition, events in version order 1..100.
  const byKey = new Map<string, { partitions: Set<number>; ns: number[]; sequences: number[] }>();
  for (const record of records) {
    const key = record.key ?? '';
    const entry = byKey.get(key) ?? { partitions: new Set(), ns: [], sequences: [] };
    entry.partitions.add(record.partition);
    entry.ns.push((JSON.parse(record.value.toString()) as { n: number }).n);
    entry.sequences.push(Number(record.headers.ce_sequence));
    byKey.set(key, entry);
  }
  expect(byKey.size).toBe(AGGREGATES);
  const inOrder = Array.from({ length: PER_AGGREGATE }, (_, i) => i + 1);
  const outOfOrder = [...byKey].filter(
    ([, entry]) =>
      entry.partitions.size !== 1 ||
      entry.ns.some((n, i) => n !== inOrder[i]) ||
      entry.sequences.some((sequence, i) => sequence !== inOrder[i]),
  );
  expect(outOfOrder.map(([key]) => key)).toEqual([]);
  expect(perRelay.reduce((sum, m) => sum + m.published, 0)).toBe(EVENTS);
  expect(perRelay.reduce((sum, m) => sum + m.fenced + m.failedAttempts, 0)).toBe(0);

  console.log(
    `four relays: filled ${EVENTS} rows in ${fillMs} ms; relays published them in ${relayMs} ms ` +
      `(${Math.round(EVENTS / (relayMs / 1000))}/s; per relay ${perRelay.map((m) => `${m.published} rows/${m.claims} claims`).join(', ')}); ` +
      `read ${records.length} records in ${readMs} ms; 0 duplicates`,
  );
});
