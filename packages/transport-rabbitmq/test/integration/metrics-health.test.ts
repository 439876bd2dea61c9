import { type Bus, createBus, ErrorCodes, healthCheck, NonRetryableError, on } from '@edakit/core';
import { type PrometheusMetrics, prometheusMetrics } from '@edakit/core/prometheus';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { namespace, startHealthy, stopAll, testTransport, vhost } from '../support/integration';
import { brokerHost, brokerPort } from '../support/rabbitmq-broker';
import { TcpProxy } from '../support/tcp-proxy';

const buses: Bus[] = [];
let metrics: PrometheusMetrics | undefined;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  metrics?.close();
  metrics = undefined;
  await stopAll(buses);
  await proxy?.close();
  proxy = undefined;
});

interface Sample {
  readonly value: number;
  readonly labels: Record<string, string | number | undefined>;
}

/** The value of one series, read the way a scrape reads it (gauges collect now). */
async function series(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = metrics?.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const values = (await metric.get()).values as Sample[];
  return values.find((sample) =>
    Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )?.value;
}

/**
 * edakit_queue_depth reads the broker's ready count of each queue of the
 * group: it grows while the consumer holds its events and drops to 0 once it
 * resumes; health turns degraded over maxQueueDepth, up again after; the
 * dead-letter queue has its own series.
 */
it('reports queue depth per queue as a gauge, and health degraded over maxQueueDepth until drained', async () => {
  const ns = namespace('mdepth');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const bus = createBus({ transport: testTransport(), source: '/it/metrics' });
  buses.push(bus);
  let open = (): void => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let handled = 0;
  bus.subscribe({
    group,
    concurrency: 1,
    handlers: [
      on(contract, async (event) => {
        if (event.data.key === 'poison') throw new NonRetryableError('cannot handle this one');
        await gate;
        handled++;
      }),
    ],
  });
  metrics = prometheusMetrics({ buses: [bus] });
  await startHealthy(bus);

  // One poison event first: straight to the dead-letter queue.
  await bus.publish(contract, { key: 'poison', seq: 0 });
  await waitFor(async () => (await series('edakit_queue_depth', { queue: `${group}.dlq` })) === 1, {
    description: 'the dead letter in its queue',
  });
  expect(
    await series('edakit_dead_letters_total', {
      group,
      type: contract.type,
      reason: ErrorCodes.NON_RETRYABLE,
    }),
  ).toBe(1);

  const N = 8;
  await bus.publishBatch(
    Array.from({ length: N }, (_, seq) => bus.prepare(contract, { key: 'same', seq: seq + 1 })),
  );
  // prefetch = concurrency = 1: one event is held by the handler, the rest are ready in the queue.
  await waitFor(
    async () => (await series('edakit_queue_depth', { group, queue: group })) === N - 1,
    { description: `${N - 1} events ready in the queue` },
  );
  expect(await series('edakit_handlers_in_flight', { group })).toBe(1);
  expect(await series('edakit_consumer_up', { group })).toBe(1);
  expect(await series('edakit_queue_depth', { queue: `${group}.retry.100ms` })).toBe(0);

  const thresholds = { maxQueueDepth: 3 };
  const degraded = await healthCheck({ buses: [bus], thresholds });
  expect(degraded).toMatchObject({ status: 'degraded', ready: true, live: true });
  const queueCheck = degraded.checks.find((check) => check.name === `queue ${group}`);
  expect(queueCheck).toMatchObject({ status: 'degraded', observed: N - 1, threshold: 3 });
  // Dead letters are not a consumer's backlog: no check on the DLQ.
  expect(degraded.checks.find((check) => check.name === `queue ${group}.dlq`)).toBeUndefined();

  open();
  await waitFor(() => handled === N, { description: `${N} events` });
  await waitFor(async () => (await series('edakit_queue_depth', { group, queue: group })) === 0, {
    description: 'queue depth gauge back to 0',
  });
  expect((await healthCheck({ buses: [bus], thresholds })).status).toBe('up');
});

/**
 * The broker unreachable (a TCP proxy in front of it refuses every
 * connection): down and not ready, but live, since a restart would not help;
 * up again once the proxy lets connections through.
 */
it('reports an unreachable broker as down but live, and up again once it is back', async () => {
  proxy = await TcpProxy.start(brokerHost, brokerPort);
  const ns = namespace('mdown');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const bus = createBus({
    transport: testTransport({
      url: `amqp://guest:guest@127.0.0.1:${proxy.port}/${encodeURIComponent(vhost())}`,
    }),
    source: '/it/metrics',
  });
  buses.push(bus);
  let handled = 0;
  bus.subscribe({ group, handlers: [on(contract, () => void handled++)] });
  metrics = prometheusMetrics({ buses: [bus] });
  await startHealthy(bus);
  await bus.publish(contract, { key: 'before', seq: 0 });
  await waitFor(() => handled === 1, { description: 'an event before the outage' });
  expect(await series('edakit_bus_up', { bus: '/it/metrics' })).toBe(1);

  proxy.takeDown();
  const down = await waitFor(
    async () => {
      const report = await healthCheck({ buses: [bus] });
      return report.status === 'down' ? report : undefined;
    },
    { description: 'health down while the broker is unreachable' },
  );
  expect(down).toMatchObject({ ready: false, live: true });
  expect(down.checks.find((check) => check.name === 'transport rabbitmq')?.status).toBe('down');
  expect(await series('edakit_bus_up', { bus: '/it/metrics' })).toBe(0);
  expect(await series('edakit_consumer_up', { group })).toBe(0);

  proxy.restore();
  await waitFor(async () => (await healthCheck({ buses: [bus] })).status === 'up', {
    timeoutMs: 30_000,
    description: 'health up once the broker is reachable',
  });
  await bus.publish(contract, { key: 'after', seq: 1 });
  await waitFor(() => handled === 2, { description: 'an event after the outage' });
  expect(await series('edakit_bus_up', { bus: '/it/metrics' })).toBe(1);
  expect(await series('edakit_consumer_up', { group })).toBe(1);
});
