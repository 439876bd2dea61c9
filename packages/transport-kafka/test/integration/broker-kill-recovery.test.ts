import {
  type Bus,
  createBus,
  idempotency,
  MemoryIdempotencyStore,
  type Middleware,
  on,
} from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterAll, afterEach, expect, it } from 'vitest';
import { namespace, sleep, startHealthy, stopAll } from '../support/integration';
import { brokers, portOpen, servicesAsync } from '../support/kafka-broker';
import { testTransport } from '../support/kafka-factory';
import { publishThroughOutage } from '../support/outage';

const buses: Bus[] = [];
afterEach(() => stopAll(buses));
// Whatever happens above, leave the single broker running.
afterAll(async () => {
  if (!(await portOpen(brokers[0] as string))) await servicesAsync('up', 'kafka');
}, 120_000);

const EVENTS = 10_000;
const CHUNK = 100;
const KILL_AFTER = 3_000;

/**
 * kill -9 of the only broker in the middle of a publish + consume run, then a
 * restart: no event whose publish resolved is lost, publishes that fail say so
 * with a typed error, and with the idempotency middleware every handler effect
 * happens exactly once however often Kafka redelivers.
 */
it('loses no acknowledged event across a broker kill -9 and restart; effects exactly once', async () => {
  const ns = namespace('kill');
  const contract = conformanceContract(ns);
  const deliveries = new Map<string, number>();
  const effects = new Map<string, number>();
  const countDeliveries: Middleware = async (event, _context, next) => {
    deliveries.set(event.id, (deliveries.get(event.id) ?? 0) + 1);
    await next();
  };

  const consumer = createBus({
    transport: testTransport(),
    source: '/it/kill',
    // Outermost first: every delivery is counted, then deduplicated.
    middleware: [countDeliveries, idempotency({ store: new MemoryIdempotencyStore() })],
    retry: { immediate: 2, delayed: { retries: 20, initialDelayMs: 100, maxDelayMs: 2_000 } },
  });
  buses.push(consumer);
  consumer.subscribe({
    group: `${ns}-g`,
    startFrom: 'earliest',
    concurrency: 8,
    handlers: [
      on(contract, (event) => {
        effects.set(event.id, (effects.get(event.id) ?? 0) + 1);
      }),
    ],
  });
  await startHealthy(consumer);

  const publisher = createBus({ transport: testTransport(), source: '/it/kill' });
  buses.push(publisher);
  let effectsAtKill = -1;
  const run = await publishThroughOutage(publisher, {
    events: EVENTS,
    chunk: CHUNK,
    outageAfter: KILL_AFTER,
    retryPauseMs: 500,
    prepare: (seq) => publisher.prepare(contract, { key: `key-${seq % 97}`, seq }),
    outage: async () => {
      effectsAtKill = effects.size;
      await servicesAsync('kafka-node', 'kill-single');
      await sleep(1_000);
      await servicesAsync('kafka-node', 'start-single');
    },
  });
  const { acknowledged: resolved, rejections, acknowledgedAtOutage: resolvedAtKill } = run;

  const missing = () => [...resolved].filter((id) => !effects.has(id));
  await waitFor(() => missing().length === 0, {
    timeoutMs: 90_000,
    intervalMs: 100,
    description: 'every acknowledged event handled',
  }).catch(() => undefined);
  // Late redeliveries (uncommitted batches) show up here.
  await sleep(2_000);

  const redelivered = [...deliveries.values()].reduce((sum, count) => sum + count - 1, 0);
  const redeliveredEvents = [...deliveries.values()].filter((count) => count > 1).length;
  const repeatedEffects = [...effects.entries()].filter(([, count]) => count > 1);
  const kinds = new Map<string, number>();
  for (const rejection of rejections) kinds.set(rejection, (kinds.get(rejection) ?? 0) + 1);
  console.log(
    `broker kill: killed after ${resolvedAtKill} acknowledged / ${effectsAtKill} handled; ` +
      `all ${resolved.size} acknowledged after ${run.elapsedMs} ms; ` +
      `${rejections.length} rejected publish calls ${JSON.stringify(Object.fromEntries(kinds))}; ` +
      `deliveries ${[...deliveries.values()].reduce((a, b) => a + b, 0)} for ${deliveries.size} events: ` +
      `${redelivered} duplicate deliveries over ${redeliveredEvents} events; ` +
      `effects ${effects.size}, repeated effects ${repeatedEffects.length}`,
  );

  // The kill happened mid-run.
  expect(resolvedAtKill).toBeGreaterThanOrEqual(KILL_AFTER);
  expect(resolvedAtKill).toBeLessThan(EVENTS);
  // Every publish eventually resolved (the failed ones were retried).
  expect(resolved.size).toBe(EVENTS);
  // Failed publishes said so with a typed error.
  expect(rejections.filter((r) => !r.startsWith('EDAKIT_PUBLISH_FAILED'))).toEqual([]);
  // Nothing acknowledged is lost.
  expect(missing()).toEqual([]);
  // Exactly-once effects, however many duplicates Kafka delivered.
  expect(repeatedEffects).toEqual([]);
  expect(effects.size).toBe(EVENTS);
  for (const id of effects.keys()) expect(resolved.has(id)).toBe(true);
});
