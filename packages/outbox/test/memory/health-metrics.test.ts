import { createBus, healthCheck, InMemoryTransport } from '@edakit/core';
import { type PrometheusMetrics, prometheusMetrics } from '@edakit/core/prometheus';
import { CapturingTransport, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { createRelay, MemoryOutbox, type Relay } from '../../src';
import { OrderPlaced } from '../support/postgres';

const relays: Relay[] = [];
let metrics: PrometheusMetrics | undefined;
afterEach(async () => {
  metrics?.close();
  metrics = undefined;
  await Promise.all(relays.splice(0).map((relay) => relay.stop()));
});

async function gauge(name: string): Promise<number | undefined> {
  const metric = metrics?.registry.getSingleMetric(name);
  const values = (await metric?.get())?.values ?? [];
  return values.find((sample) => sample.labels.outbox === 'orders')?.value;
}

/**
 * A relay that is not running lets the oldest row age: health turns degraded
 * past maxOutboxAgeMs and the outbox gauges show it; once the relay runs,
 * the rows leave, health is up and the gauges drop to 0.
 */
it('turns degraded when the oldest pending row is older than maxOutboxAgeMs, up once relayed', async () => {
  let now = Date.parse('2025-01-01T00:00:00Z');
  const outbox = new MemoryOutbox(() => now);
  const bus = createBus({ transport: new InMemoryTransport(), source: '/outbox-health' });
  const capture = new CapturingTransport(new InMemoryTransport());
  const relay = createRelay({ store: outbox, transport: capture, pollIntervalMs: 10 });
  relays.push(relay);
  // The relay's own stats() is what health and metrics read.
  const options = { outboxes: { orders: relay }, thresholds: { maxOutboxAgeMs: 60_000 } };
  metrics = prometheusMetrics({ outboxes: { orders: relay } });

  outbox.add([1, 2, 3].map((n) => bus.prepare(OrderPlaced, { orderId: 'o-1', n })));
  now += 30_000;
  expect((await healthCheck(options)).status).toBe('up');
  expect(await gauge('edakit_outbox_oldest_pending_age_seconds')).toBe(30);

  now += 45_000;
  const late = await healthCheck(options);
  expect(late).toMatchObject({ status: 'degraded', ready: true, live: true });
  expect(late.checks).toEqual([
    {
      name: 'outbox orders',
      status: 'degraded',
      live: true,
      message: '3 pending, oldest 75000 ms, 0 dead',
      observed: 75_000,
      threshold: 60_000,
    },
  ]);
  expect(await gauge('edakit_outbox_pending')).toBe(3);
  expect(await gauge('edakit_outbox_oldest_pending_age_seconds')).toBe(75);
  expect(await gauge('edakit_outbox_dead')).toBe(0);

  relay.start();
  await waitFor(() => capture.captured.length === 3, { timeoutMs: 5000 });
  await waitFor(async () => (await healthCheck(options)).status === 'up', { timeoutMs: 5000 });
  expect(await gauge('edakit_outbox_pending')).toBe(0);
  expect(await gauge('edakit_outbox_oldest_pending_age_seconds')).toBe(0);
});
