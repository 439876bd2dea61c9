import { type Bus, createBus, healthCheck, on } from '@edakit/core';
import { type PrometheusMetrics, prometheusMetrics } from '@edakit/core/prometheus';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import {
  createTopicWithFullDlq,
  namespace,
  rawKafka,
  sendOversizedEvent,
  startHealthy,
  stopAll,
} from '../support/integration';
import { brokers } from '../support/kafka-broker';
import { testTransport } from '../support/kafka-factory';
import { NetworkCut } from '../support/network-cut';

const buses: Bus[] = [];
let metrics: PrometheusMetrics | undefined;
afterEach(async () => {
  metrics?.close();
  metrics = undefined;
  await stopAll(buses);
});

interface Sample {
  readonly value: number;
  readonly labels: Record<string, string | number | undefined>;
}

/** Samples of one metric, read the way a scrape reads them (gauges collect now). */
async function samples(name: string): Promise<Sample[]> {
  const metric = metrics?.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values as Sample[];
}

const sum = (list: readonly Sample[]): number => list.reduce((total, s) => total + s.value, 0);

/**
 * edakit_consumer_lag follows the group's committed offsets on the real
 * broker: N behind while the consumer holds its events, 0 once it resumes;
 * health turns degraded over maxLag, up again after.
 */
it('reports lag per partition as a gauge, and health degraded over maxLag until the consumer catches up', async () => {
  const ns = namespace('mlag');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const topic = contract.channel;

  // N events while the group has no consumer; then a consumer that holds them.
  const N = 40;
  const publisher = createBus({ transport: testTransport(), source: '/it/metrics' });
  buses.push(publisher);
  await publisher.publishBatch(
    Array.from({ length: N }, (_, seq) => publisher.prepare(contract, { key: `k${seq}`, seq })),
  );
  let open = (): void => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let handled = 0;
  const bus = createBus({ transport: testTransport(), source: '/it/metrics' });
  buses.push(bus);
  bus.subscribe({
    group,
    startFrom: 'earliest',
    handlers: [
      on(contract, async () => {
        await gate;
        handled++;
      }),
    ],
  });
  metrics = prometheusMetrics({ buses: [bus] });
  await startHealthy(bus);

  const mainLag = async () =>
    (await samples('edakit_consumer_lag')).filter(
      (sample) => sample.labels.group === group && sample.labels.topic === topic,
    );
  const behind = await mainLag();
  expect(behind.map((sample) => sample.labels.partition).sort()).toEqual(['0', '1', '2']);
  expect(sum(behind)).toBe(N);
  // Retry topics are in the gauge too, empty.
  const retry = (await samples('edakit_consumer_lag')).filter(
    (sample) => sample.labels.group === group && sample.labels.topic !== topic,
  );
  expect(retry.length).toBeGreaterThan(0);
  expect(sum(retry)).toBe(0);
  expect(await samples('edakit_consumer_up')).toContainEqual({ value: 1, labels: { group } });

  const thresholds = { maxLag: N - 1 };
  const degraded = await healthCheck({ buses: [bus], thresholds });
  expect(degraded).toMatchObject({ status: 'degraded', ready: true, live: true });
  expect(degraded.checks.find((check) => check.name === `lag ${group}`)).toMatchObject({
    status: 'degraded',
    observed: N,
    threshold: N - 1,
  });

  open();
  await waitFor(() => handled === N, { timeoutMs: 30_000, description: `${N} events` });
  await waitFor(async () => sum(await mainLag()) === 0, {
    timeoutMs: 20_000,
    description: 'lag gauge back to 0',
  });
  const caughtUp = await healthCheck({ buses: [bus], thresholds });
  expect(caughtUp.status).toBe('up');
  expect(
    await samples('edakit_handler_duration_seconds').then((list) =>
      list.find(
        (sample) =>
          (sample as { metricName?: string }).metricName ===
            'edakit_handler_duration_seconds_count' && sample.labels.group === group,
      ),
    ),
  ).toMatchObject({ value: N });
});

/** A consumer that crashed (here: its dead letter cannot be written) is down and not live. */
it('reports a crashed consumer as down and not live, with consumer_up 0 and its lag', async () => {
  const ns = namespace('mcrash');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const topic = contract.channel;
  const kafka = rawKafka();
  await createTopicWithFullDlq(kafka, topic);
  const bus = createBus({
    transport: testTransport({
      client: {
        clientId: `edakit-mcrash-${ns}`,
        brokers,
        retry: { retries: 1, initialRetryTime: 100, restartOnFailure: async () => false },
      },
      restartBackoffMs: 60_000,
    }),
    source: '/it/metrics',
    maxMessageBytes: 2048,
  });
  buses.push(bus);
  bus.subscribe({ group, startFrom: 'earliest', handlers: [on(contract, () => undefined)] });
  metrics = prometheusMetrics({ buses: [bus] });
  await startHealthy(bus);

  // Too large for the bus (2 KiB): dead-lettered, but too large for the DLQ topic too (1 KiB).
  await sendOversizedEvent(kafka, topic, contract.type);

  const report = await waitFor(
    async () => {
      const current = await healthCheck({ buses: [bus] });
      return current.status === 'down' ? current : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, description: 'health down after the crash' },
  );
  expect(report).toMatchObject({ ready: false, live: false });
  expect(report.checks.find((check) => check.name === `consumer ${group}`)).toMatchObject({
    status: 'down',
    live: false,
  });
  expect(report.checks.find((check) => check.name === 'transport kafka')?.status).toBe('degraded');
  expect(await samples('edakit_consumer_up')).toContainEqual({ value: 0, labels: { group } });
  const lag = (await samples('edakit_consumer_lag')).filter((s) => s.labels.topic === topic);
  expect(sum(lag)).toBe(1);
});

/**
 * Broker unreachable (this client's network cut; the shared broker keeps
 * running): down and not ready, but live, since a restart would not help;
 * up again once the network is back.
 */
it('reports an unreachable broker as down but live, and up again once it is reachable', async () => {
  const ns = namespace('mcut');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const network = await NetworkCut.create();
  const bus = createBus({
    transport: testTransport({
      client: {
        clientId: `edakit-mcut-${ns}`,
        brokers,
        retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
        connectionTimeout: 1_000,
        socketFactory: network.socketFactory,
      },
    }),
    source: '/it/metrics',
  });
  buses.push(bus);
  let handled = 0;
  bus.subscribe({ group, startFrom: 'earliest', handlers: [on(contract, () => void handled++)] });
  metrics = prometheusMetrics({ buses: [bus], timeoutMs: 4_000 });
  await startHealthy(bus);
  expect((await healthCheck({ buses: [bus] })).status).toBe('up');
  expect(await samples('edakit_bus_up')).toEqual([{ value: 1, labels: { bus: '/it/metrics' } }]);

  network.cut();
  const down = await waitFor(
    async () => {
      const current = await healthCheck({ buses: [bus], timeoutMs: 4_000 });
      return current.status === 'down' ? current : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, description: 'health down while the network is cut' },
  );
  console.log(`while cut: ${JSON.stringify(down.checks)}`);
  expect(down).toMatchObject({ ready: false, live: true });
  expect(down.checks.find((check) => check.status === 'down')?.name).toMatch(/^(bus|transport) /);
  expect(await samples('edakit_bus_up')).toEqual([{ value: 0, labels: { bus: '/it/metrics' } }]);

  network.restore();
  await waitFor(async () => (await healthCheck({ buses: [bus] })).status === 'up', {
    timeoutMs: 60_000,
    intervalMs: 250,
    description: 'health up once the network is back',
  });
  await bus.publish(contract, { key: 'after', seq: 1 });
  await waitFor(() => handled === 1, { timeoutMs: 30_000, description: 'an event after the cut' });
  expect(await samples('edakit_bus_up')).toEqual([{ value: 1, labels: { bus: '/it/metrics' } }]);
});
