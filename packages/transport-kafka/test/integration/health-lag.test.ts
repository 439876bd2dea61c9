import { type Bus, createBus, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import type { GroupConsumerState, KafkaTransport, PartitionLag } from '../../src/index';
import {
  createTopicWithFullDlq,
  namespace,
  partitionOf,
  rawKafka,
  sendOversizedEvent,
  startHealthy,
  stopAll,
} from '../support/integration';
import { testTransport } from '../support/kafka-factory';

const buses: Bus[] = [];
const kafka = rawKafka();
afterEach(() => stopAll(buses));

interface Details {
  lag: Record<string, PartitionLag[]>;
  consumers: GroupConsumerState[];
}

async function lagOf(transport: KafkaTransport, group: string) {
  const health = await transport.health();
  const lag = (health.details as unknown as Details).lag[group] ?? [];
  return { health, lag, total: lag.reduce((sum, partition) => sum + partition.lag, 0) };
}

it('reports per-partition lag of an existing group: N behind, then 0 once consumed', async () => {
  const ns = namespace('lag');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const topic = contract.channel;

  // 1. The group exists and is caught up: 3 events consumed and committed.
  const warmTransport = testTransport();
  const warm = createBus({ transport: warmTransport, source: '/it/lag' });
  buses.push(warm);
  let warmHandled = 0;
  warm.subscribe({
    group,
    startFrom: 'earliest',
    handlers: [on(contract, () => void warmHandled++)],
  });
  await startHealthy(warm);
  await warm.publishBatch([0, 1, 2].map((seq) => warm.prepare(contract, { key: `w${seq}`, seq })));
  await waitFor(() => warmHandled === 3, { timeoutMs: 20_000, description: 'warm-up events' });
  await waitFor(async () => (await lagOf(warmTransport, group)).total === 0, {
    timeoutMs: 20_000,
    description: 'warm-up lag 0',
  });
  await warm.stop();

  // 2. N events while no member of the group runs.
  const N = 300;
  const publisher = createBus({ transport: testTransport(), source: '/it/lag' });
  buses.push(publisher);
  const keys = Array.from({ length: N }, (_, seq) => `key-${seq}`);
  await publisher.publishBatch(keys.map((key, seq) => publisher.prepare(contract, { key, seq })));
  const expected = [0, 0, 0];
  for (const key of keys) {
    const partition = partitionOf(key, 3);
    expected[partition] = (expected[partition] ?? 0) + 1;
  }

  // 3. A member comes back; its handlers are held, so nothing is committed yet.
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let handled = 0;
  const transport = testTransport();
  const bus = createBus({ transport, source: '/it/lag' });
  buses.push(bus);
  bus.subscribe({
    group,
    handlers: [
      on(contract, async () => {
        await gate;
        handled++;
      }),
    ],
  });
  await startHealthy(bus);
  const behind = await lagOf(transport, group);
  expect(behind.health.status).toBe('up');
  expect(behind.total).toBe(N);
  const main = behind.lag.filter((partition) => partition.topic === topic);
  expect(main.map((p) => p.partition).sort()).toEqual([0, 1, 2]);
  for (const partition of main) {
    // Each partition: exactly the events published to it, counted from the warm-up commit.
    expect(partition.lag, `partition ${partition.partition}`).toBe(expected[partition.partition]);
    expect(Number(partition.end) - Number(partition.committed)).toBe(partition.lag);
  }
  // Retry topics are part of the group's lag, empty here.
  const retry = behind.lag.filter((partition) => partition.topic !== topic);
  expect(retry.length).toBeGreaterThan(0);
  expect(retry.every((partition) => partition.lag === 0)).toBe(true);

  // 4. Consumed and committed: lag back to 0 on every partition.
  open();
  await waitFor(() => handled === N, { timeoutMs: 30_000, description: `${N} events` });
  const caughtUp = await waitFor(
    async () => {
      const now = await lagOf(transport, group);
      return now.total === 0 ? now : undefined;
    },
    { timeoutMs: 20_000, description: 'lag 0 after consuming' },
  );
  expect(
    caughtUp.lag
      .filter((p) => p.topic === topic)
      .map((p) => p.committed)
      .sort(),
  ).toEqual(main.map((p) => p.end).sort());
  expect(caughtUp.health.status).toBe('up');
});

it('reports a crashed consumer as degraded, with its error', async () => {
  const ns = namespace('crash');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const topic = contract.channel;
  // Settling the poison below fails, so the consumer crashes.
  await createTopicWithFullDlq(kafka, topic);
  const transport = testTransport({
    client: {
      clientId: `edakit-crash-${ns}`,
      brokers: ['127.0.0.1:9092'],
      // Give up quickly, and let edakit (not kafkajs) restart the consumer, late.
      retry: { retries: 1, initialRetryTime: 100, restartOnFailure: async () => false },
    },
    restartBackoffMs: 60_000,
  });
  const bus = createBus({ transport, source: '/it/crash', maxMessageBytes: 2048 });
  buses.push(bus);
  bus.subscribe({ group, startFrom: 'earliest', handlers: [on(contract, () => undefined)] });
  await startHealthy(bus);

  // Too large for the bus (2 KiB) and for the DLQ topic (1 KiB).
  await sendOversizedEvent(kafka, topic, contract.type);

  const crashed = await waitFor(
    async () => {
      const health = await transport.health();
      return health.status === 'degraded' ? health : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, description: 'health degraded after the crash' },
  );
  const details = crashed.details as unknown as Details;
  const state = details.consumers.find((consumer) => consumer.group === group);
  expect(state?.running).toBe(false);
  expect(state?.crashes).toBeGreaterThanOrEqual(1);
  expect(state?.lastError).toBeTruthy();
  console.log(`crashed consumer: ${JSON.stringify(state)}`);
  // The stuck message still counts as lag: nothing was committed past it.
  const main = details.lag[group]?.filter((partition) => partition.topic === topic) ?? [];
  expect(main.reduce((sum, partition) => sum + partition.lag, 0)).toBe(1);
  const busHealth = await bus.health();
  expect(busHealth.status).toBe('degraded');
});
