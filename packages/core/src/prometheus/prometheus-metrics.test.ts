import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Bus, createBus } from '../bus/create-bus';
import { defineEvent } from '../contract/define-event';
import { ErrorCodes } from '../errors/error-codes';
import { NonRetryableError } from '../errors/handling-errors';
import { on } from '../handler/handler';
import { InMemoryTransport } from '../memory/in-memory-transport';
import { MemoryBroker } from '../memory/memory-broker';
import type { SagaObserver } from '../observability/saga-observer';
import { waitFor } from '../testing/wait-for';
import type { Transport } from '../transport/transport';
import { type PrometheusMetrics, prometheusMetrics } from './prometheus-metrics';

const OrderPlaced = defineEvent({
  type: 'order.placed',
  schema: z.object({ orderId: z.string() }),
  description: 'placed',
  partitionKey: (order) => order.orderId,
});
const OrderShipped = defineEvent({
  type: 'order.shipped',
  schema: z.object({ orderId: z.string() }),
  description: 'shipped',
  partitionKey: (order) => order.orderId,
});

interface Sample {
  readonly value: number;
  readonly labels: Record<string, string | number | undefined>;
  readonly metricName?: string | undefined;
}

/** Every sample of a metric (histograms: their _bucket/_sum/_count series). */
async function samples(registry: Registry, name: string): Promise<Sample[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values as Sample[];
}

/** The value of the one sample whose labels include `labels`; undefined when absent. */
async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
  metricName?: string,
): Promise<number | undefined> {
  const matching = (await samples(registry, name)).filter(
    (sample) =>
      (metricName === undefined || sample.metricName === metricName) &&
      Object.entries(labels).every(([key, value]) => String(sample.labels[key]) === value),
  );
  if (matching.length > 1) throw new Error(`${matching.length} samples of ${name} match`);
  return matching[0]?.value;
}

const open: { bus: Bus; metrics: PrometheusMetrics }[] = [];
afterEach(async () => {
  for (const { bus, metrics } of open.splice(0)) {
    metrics.close();
    await bus.stop().catch(() => undefined);
  }
});

function setup(transport: Transport = new InMemoryTransport()) {
  const registry = new Registry();
  const bus = createBus({ transport, source: '/services/orders' });
  const metrics = prometheusMetrics({ registry, buses: [bus] });
  open.push({ bus, metrics });
  return { registry, bus, metrics, transport };
}

describe('prometheusMetrics counters', () => {
  it('counts published events by type and status', async () => {
    const { registry, bus } = setup();
    for (let i = 0; i < 5; i++) await bus.publish(OrderPlaced, { orderId: `o-${i}` });
    await bus.publishBatch([
      bus.prepare(OrderPlaced, { orderId: 'o-5' }),
      bus.prepare(OrderPlaced, { orderId: 'o-6' }),
      bus.prepare(OrderShipped, { orderId: 'o-1' }),
      bus.prepare(OrderShipped, { orderId: 'o-2' }),
      bus.prepare(OrderShipped, { orderId: 'o-3' }),
    ]);
    const name = 'edakit_events_published_total';
    expect(await metricValue(registry, name, { type: 'order.placed', status: 'ok' })).toBe(7);
    expect(await metricValue(registry, name, { type: 'order.shipped', status: 'ok' })).toBe(3);
    expect(await metricValue(registry, name, { status: 'error' })).toBeUndefined();
  });

  it('counts refused publishes as status "error"', async () => {
    const transport = new InMemoryTransport();
    transport.publish = async () => {
      throw new Error('refused');
    };
    const { registry, bus } = setup(transport);
    await expect(bus.publish(OrderPlaced, { orderId: 'o' })).rejects.toThrow(/refused/);
    expect(
      await metricValue(registry, 'edakit_events_published_total', {
        type: 'order.placed',
        status: 'error',
      }),
    ).toBe(1);
  });

  it('times every attempt and counts immediate retries: fail, fail, succeed = 2 retries, 3 attempts', async () => {
    const { registry, bus } = setup();
    let calls = 0;
    let handled = 0;
    bus.subscribe({
      group: 'billing',
      retry: { immediate: 2, delayed: [] },
      handlers: [
        on(OrderPlaced, () => {
          calls++;
          if (calls <= 2) throw new Error(`flaky ${calls}`);
          handled++;
        }),
      ],
    });
    await bus.start();
    await bus.publish(OrderPlaced, { orderId: 'o-1' });
    await waitFor(() => handled === 1);
    const labels = { group: 'billing', handler: 'billing/order.placed', type: 'order.placed' };
    expect(
      await metricValue(registry, 'edakit_handler_retries_total', { ...labels, kind: 'immediate' }),
    ).toBe(2);
    expect(
      await metricValue(registry, 'edakit_handler_retries_total', { ...labels, kind: 'delayed' }),
    ).toBeUndefined();
    const count = (outcome: string) =>
      metricValue(
        registry,
        'edakit_handler_duration_seconds',
        { ...labels, outcome },
        'edakit_handler_duration_seconds_count',
      );
    expect(await count('error')).toBe(2);
    expect(await count('success')).toBe(1);
    expect(await metricValue(registry, 'edakit_dead_letters_total', {})).toBeUndefined();
  });

  it('counts delayed retries, then the dead letter with reason EDAKIT_RETRIES_EXHAUSTED', async () => {
    const { registry, bus } = setup();
    bus.subscribe({
      group: 'billing',
      retry: { immediate: 0, delayed: [5, 5] },
      handlers: [
        on(OrderPlaced, () => {
          throw new Error('always');
        }),
      ],
    });
    await bus.start();
    await bus.publish(OrderPlaced, { orderId: 'o-1' });
    await waitFor(
      async () =>
        (await metricValue(registry, 'edakit_dead_letters_total', { group: 'billing' })) === 1,
    );
    expect(
      await metricValue(registry, 'edakit_handler_retries_total', {
        group: 'billing',
        kind: 'delayed',
      }),
    ).toBe(2);
    expect(
      await metricValue(registry, 'edakit_dead_letters_total', {
        group: 'billing',
        type: 'order.placed',
        reason: ErrorCodes.RETRIES_EXHAUSTED,
      }),
    ).toBe(1);
  });

  it('dead-letters a NonRetryableError once, with bounded labels only', async () => {
    const { registry, bus } = setup();
    let attempts = 0;
    bus.subscribe({
      group: 'billing',
      handlers: [
        on(OrderPlaced, () => {
          attempts++;
          throw new NonRetryableError('needs review');
        }),
      ],
    });
    await bus.start();
    await bus.publish(OrderPlaced, { orderId: 'o-1' });
    await waitFor(async () => (await samples(registry, 'edakit_dead_letters_total')).length > 0);
    const deadLetters = await samples(registry, 'edakit_dead_letters_total');
    expect(deadLetters).toEqual([
      {
        value: 1,
        labels: { group: 'billing', type: 'order.placed', reason: ErrorCodes.NON_RETRYABLE },
      },
    ]);
    expect(attempts).toBe(1);
    expect(await samples(registry, 'edakit_handler_retries_total')).toEqual([]);
  });

  it('labels a dead letter of a type nobody declared "unknown", never with the wire value', async () => {
    const broker = new MemoryBroker({ routing: 'channel' });
    const transport = new InMemoryTransport({ broker });
    const { registry, bus } = setup(transport);
    bus.subscribe({ group: 'billing', handlers: [on(OrderPlaced, () => undefined)] });
    await bus.start();
    const { outgoing } = bus.prepare(OrderPlaced, { orderId: 'o-1' });
    for (let i = 0; i < 3; i++) {
      const type = `order.forged-${crypto.randomUUID()}`;
      await transport.publish([
        {
          ...outgoing,
          type,
          message: { ...outgoing.message, headers: { ...outgoing.message.headers, ce_type: type } },
        },
      ]);
    }
    await waitFor(
      async () =>
        (await metricValue(registry, 'edakit_dead_letters_total', { group: 'billing' })) === 3,
    );
    expect(await samples(registry, 'edakit_dead_letters_total')).toEqual([
      {
        value: 3,
        labels: { group: 'billing', type: 'unknown', reason: ErrorCodes.UNKNOWN_EVENT },
      },
    ]);
  });

  it('observes as many handled events as the histogram counts, and no label carries an event id', async () => {
    const { registry, bus } = setup();
    let handled = 0;
    bus.subscribe({
      group: 'shipping',
      concurrency: 4,
      handlers: [
        on(OrderPlaced, () => void handled++),
        on(OrderShipped, async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          handled++;
        }),
      ],
    });
    await bus.start();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const contract = i % 4 === 0 ? OrderShipped : OrderPlaced;
      ids.push(
        (await bus.publish(contract, { orderId: `o-${i}` }, { correlationId: `c-${i}` })).id,
      );
    }
    await waitFor(() => handled === 20);
    const countOf = (type: string) =>
      metricValue(
        registry,
        'edakit_handler_duration_seconds',
        { group: 'shipping', type, outcome: 'success' },
        'edakit_handler_duration_seconds_count',
      );
    expect(await countOf('order.placed')).toBe(15);
    expect(await countOf('order.shipped')).toBe(5);
    const sum = await metricValue(
      registry,
      'edakit_handler_duration_seconds',
      { group: 'shipping', type: 'order.shipped', outcome: 'success' },
      'edakit_handler_duration_seconds_sum',
    );
    expect(sum).toBeGreaterThan(0.004);

    const text = await registry.metrics();
    for (const id of ids) expect(text).not.toContain(id);
    expect(text).not.toMatch(/c-\d+/);
    const labelValues = (await registry.getMetricsAsJSON()).flatMap((metric) =>
      metric.values.flatMap((sample) => Object.values(sample.labels).map(String)),
    );
    expect(labelValues.length).toBeGreaterThan(0);
    for (const value of labelValues) expect(ids).not.toContain(value);
  });

  it('counts saga starts, finishes and timeouts through its saga observer', async () => {
    const { registry, metrics } = setup();
    metrics.saga.onSagaStarted?.({ saga: 'checkout' });
    metrics.saga.onSagaStarted?.({ saga: 'checkout' });
    metrics.saga.onSagaFinished?.({ saga: 'checkout', status: 'completed' });
    metrics.saga.onSagaFinished?.({ saga: 'checkout', status: 'compensated' });
    metrics.saga.onSagaTimeout?.({ saga: 'checkout', kind: 'reply' });
    expect(
      await metricValue(registry, 'edakit_saga_instances_started_total', { saga: 'checkout' }),
    ).toBe(2);
    expect(
      await metricValue(registry, 'edakit_saga_instances_finished_total', {
        saga: 'checkout',
        status: 'compensated',
      }),
    ).toBe(1);
    expect(
      await metricValue(registry, 'edakit_saga_timeouts_fired_total', {
        saga: 'checkout',
        kind: 'reply',
      }),
    ).toBe(1);
  });
});

describe('prometheusMetrics gauges', () => {
  it('read queue depth and handlers in flight at scrape time: up while held, 0 once drained', async () => {
    const { registry, bus } = setup();
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let handled = 0;
    bus.subscribe({
      group: 'billing',
      concurrency: 1,
      handlers: [
        on(OrderPlaced, async () => {
          await gate;
          handled++;
        }),
      ],
    });
    await bus.start();
    await bus.publishBatch(
      Array.from({ length: 5 }, () => bus.prepare(OrderPlaced, { orderId: 'same-key' })),
    );
    await waitFor(async () => (await bus.health()).subscriptions[0]?.inFlight === 1);
    expect(await metricValue(registry, 'edakit_handlers_in_flight', { group: 'billing' })).toBe(1);
    expect(
      await metricValue(registry, 'edakit_queue_depth', { group: 'billing', queue: 'billing' }),
    ).toBe(4);
    expect(
      await metricValue(registry, 'edakit_queue_depth', { group: 'billing', queue: 'billing.dlq' }),
    ).toBe(0);
    expect(await metricValue(registry, 'edakit_consumer_up', { group: 'billing' })).toBe(1);
    expect(await metricValue(registry, 'edakit_bus_up', { bus: '/services/orders' })).toBe(1);

    release();
    await waitFor(() => handled === 5);
    expect(await metricValue(registry, 'edakit_handlers_in_flight', { group: 'billing' })).toBe(0);
    expect(
      await metricValue(registry, 'edakit_queue_depth', { group: 'billing', queue: 'billing' }),
    ).toBe(0);
  });

  it('reads a stopped bus as down, and a source that does not answer as down after the timeout', async () => {
    const registry = new Registry();
    const stopped = createBus({ transport: new InMemoryTransport(), source: '/services/stopped' });
    const hanging = createBus({ transport: new InMemoryTransport(), source: '/services/hung' });
    hanging.health = () => new Promise(() => undefined);
    const standalone = new InMemoryTransport();
    const metrics = prometheusMetrics({
      registry,
      buses: [stopped, hanging],
      transports: [standalone],
      timeoutMs: 50,
    });
    try {
      expect(await metricValue(registry, 'edakit_bus_up', { bus: '/services/stopped' })).toBe(0);
      expect(await metricValue(registry, 'edakit_bus_up', { bus: '/services/hung' })).toBe(0);
      expect(await metricValue(registry, 'edakit_transport_up', { transport: 'memory' })).toBe(1);
      await standalone.close();
      expect(await metricValue(registry, 'edakit_transport_up', { transport: 'memory' })).toBe(0);
    } finally {
      metrics.close();
    }
  });

  it('reads each source once per scrape, however many gauges use it', async () => {
    const transport = new InMemoryTransport();
    let reads = 0;
    const health = transport.health.bind(transport);
    transport.health = () => {
      reads++;
      return health();
    };
    const { registry } = setup(transport);
    await registry.metrics();
    expect(reads).toBe(1);
    await registry.metrics();
    expect(reads).toBe(2);
  });

  it('reads Kafka-style partition lag and a crashed consumer from transport health', async () => {
    const transport = new InMemoryTransport();
    transport.health = async () => ({
      status: 'degraded',
      details: {},
      consumers: [{ group: 'billing', running: false, lastError: 'boom' }],
      backlog: [
        {
          kind: 'partition',
          group: 'billing',
          name: 'order',
          partition: 0,
          messages: 7,
          role: 'work',
        },
        {
          kind: 'partition',
          group: 'billing',
          name: 'order',
          partition: 1,
          messages: 3,
          role: 'work',
        },
      ],
    });
    const { registry } = setup(transport);
    expect(
      await metricValue(registry, 'edakit_consumer_lag', {
        group: 'billing',
        topic: 'order',
        partition: '0',
      }),
    ).toBe(7);
    expect(await metricValue(registry, 'edakit_consumer_lag', { partition: '1' })).toBe(3);
    expect(await metricValue(registry, 'edakit_consumer_up', { group: 'billing' })).toBe(0);
  });

  it('reads outbox figures by name; a failing outbox leaves no stale series', async () => {
    const registry = new Registry();
    let failing = false;
    const metrics = prometheusMetrics({
      registry,
      outboxes: {
        orders: {
          stats: async () => {
            if (failing) throw new Error('database down');
            return { pending: 12, oldestPendingAgeMs: 2500, dead: 1 };
          },
        },
      },
    });
    try {
      expect(await metricValue(registry, 'edakit_outbox_pending', { outbox: 'orders' })).toBe(12);
      expect(
        await metricValue(registry, 'edakit_outbox_oldest_pending_age_seconds', {
          outbox: 'orders',
        }),
      ).toBe(2.5);
      expect(await metricValue(registry, 'edakit_outbox_dead', { outbox: 'orders' })).toBe(1);
      failing = true;
      expect(await samples(registry, 'edakit_outbox_pending')).toEqual([]);
    } finally {
      metrics.close();
    }
  });
});

describe('prometheusMetrics saga gauge', () => {
  it('reads saga instances by status from each source at scrape time; a failing source leaves no stale series', async () => {
    const registry = new Registry();
    let failing = false;
    let running = 7;
    const metrics = prometheusMetrics({
      registry,
      sagas: [
        {
          instanceCounts: async () => {
            if (failing) throw new Error('redis down');
            return [
              { saga: 'order', status: 'running', count: running },
              { saga: 'order', status: 'completed', count: 40 },
              { saga: 'order', status: 'compensated', count: 3 },
            ];
          },
        },
        { instanceCounts: async () => [{ saga: 'refund', status: 'running', count: 1 }] },
      ],
    });
    try {
      const byStatus = async () =>
        (await samples(registry, 'edakit_saga_instances')).map(
          (sample) => `${sample.labels.saga} ${sample.labels.status} ${sample.value}`,
        );
      expect(await byStatus()).toEqual([
        'order running 7',
        'order completed 40',
        'order compensated 3',
        'refund running 1',
      ]);
      running = 5;
      expect(
        await metricValue(registry, 'edakit_saga_instances', { saga: 'order', status: 'running' }),
      ).toBe(5);
      failing = true;
      expect(await byStatus()).toEqual(['refund running 1']);
    } finally {
      metrics.close();
    }
  });

  it('observes the saga sources that can be observed, and close() detaches from them', async () => {
    const registry = new Registry();
    const observers = new Set<SagaObserver>();
    const runtime = {
      instanceCounts: async () => [],
      observe(observer: SagaObserver) {
        observers.add(observer);
        return () => observers.delete(observer);
      },
    };
    const metrics = prometheusMetrics({ registry, sagas: [runtime] });
    expect(observers.size).toBe(1);
    for (const observer of observers) {
      observer.onSagaStarted?.({ saga: 'order' });
      observer.onSagaFinished?.({ saga: 'order', status: 'completed' });
      observer.onSagaTimeout?.({ saga: 'order', kind: 'retry' });
    }
    expect(
      await metricValue(registry, 'edakit_saga_instances_started_total', { saga: 'order' }),
    ).toBe(1);
    expect(
      await metricValue(registry, 'edakit_saga_timeouts_fired_total', {
        saga: 'order',
        kind: 'retry',
      }),
    ).toBe(1);
    metrics.close();
    expect(observers.size).toBe(0);
  });
});

describe('prometheusMetrics options', () => {
  it('uses the prefix, rejects an invalid one, and close() removes its metrics and observers', async () => {
    const registry = new Registry();
    const bus = createBus({ transport: new InMemoryTransport(), source: '/s' });
    expect(() => prometheusMetrics({ registry, prefix: 'my-app' })).toThrow(/prefix/);
    const metrics = prometheusMetrics({ registry, prefix: 'shop_', buses: [bus] });
    await bus.publish(OrderPlaced, { orderId: 'o' });
    expect(
      await metricValue(registry, 'shop_events_published_total', { type: 'order.placed' }),
    ).toBe(1);
    expect(registry.getSingleMetric('edakit_events_published_total')).toBeUndefined();
    metrics.close();
    expect(registry.getMetricsAsArray()).toEqual([]);
    await bus.publish(OrderPlaced, { orderId: 'o' }); // detached: nothing to count, nothing throws
    // The same names can be registered again after close, but not twice at once.
    const again = prometheusMetrics({ registry, prefix: 'shop_' });
    expect(registry.getSingleMetric('shop_events_published_total')).toBeDefined();
    expect(() => prometheusMetrics({ registry, prefix: 'shop_' })).toThrow(
      expect.objectContaining({ code: 'EDAKIT_INVALID_OPTIONS' }),
    );
    again.close();
  });

  it('registers on prom-client’s global registry by default', async () => {
    const { register } = await import('prom-client');
    const metrics = prometheusMetrics({ durationBuckets: [0.1, 1] });
    try {
      expect(metrics.registry).toBe(register);
      expect(register.getSingleMetric('edakit_handler_duration_seconds')).toBeDefined();
    } finally {
      metrics.close();
    }
  });
});
