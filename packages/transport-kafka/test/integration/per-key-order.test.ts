import { type Bus, createBus, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { namespace, partitionOf, startHealthy, stopAll } from '../support/integration';
import { testTransport } from '../support/kafka-factory';

const buses: Bus[] = [];
afterEach(() => stopAll(buses));

const KEYS = 1_000;
const EVENTS = 100_000;
const PER_KEY = EVENTS / KEYS;
const CONCURRENCY = 16;
const PARTITIONS = 3;
const CHUNK = 5_000;

/**
 * concurrency 16 runs events of different keys in parallel within a partition,
 * and never two of one key: each key's events are handled in publish order.
 */
it(`keeps per-key order over ${KEYS} keys and ${EVENTS} events at concurrency ${CONCURRENCY}`, async () => {
  const ns = namespace('order');
  const contract = conformanceContract(ns);
  const keys = Array.from({ length: KEYS }, (_, index) => `key-${index}`);
  const partitionOfKey = new Map(keys.map((key) => [key, partitionOf(key, PARTITIONS)]));
  const nextSeq = new Map(keys.map((key) => [key, 0]));
  const inFlightKeys = new Set<string>();
  const violations: string[] = [];
  const running = new Array<number>(PARTITIONS).fill(0);
  const peakPerPartition = new Array<number>(PARTITIONS).fill(0);
  let runningTotal = 0;
  let peakTotal = 0;
  let handled = 0;

  const bus = createBus({ transport: testTransport(), source: '/it/order' });
  buses.push(bus);
  bus.subscribe({
    group: `${ns}-g`,
    startFrom: 'earliest',
    concurrency: CONCURRENCY,
    handlers: [
      on(contract, async (event) => {
        const { key, seq } = event.data;
        const partition = partitionOfKey.get(key) as number;
        if (inFlightKeys.has(key)) violations.push(`${key}: two events at once`);
        inFlightKeys.add(key);
        const expected = nextSeq.get(key);
        if (seq !== expected) violations.push(`${key}: got ${seq}, expected ${expected}`);
        nextSeq.set(key, seq + 1);
        running[partition] = (running[partition] ?? 0) + 1;
        runningTotal++;
        peakPerPartition[partition] = Math.max(
          peakPerPartition[partition] ?? 0,
          running[partition] ?? 0,
        );
        peakTotal = Math.max(peakTotal, runningTotal);
        // Asynchronous work, so handlers overlap.
        await new Promise((resolve) => setImmediate(resolve));
        running[partition] = (running[partition] ?? 0) - 1;
        runningTotal--;
        inFlightKeys.delete(key);
        handled++;
      }),
    ],
  });
  await startHealthy(bus);

  const started = Date.now();
  for (let from = 0; from < EVENTS; from += CHUNK) {
    const chunk = [];
    for (let index = from; index < from + CHUNK; index++) {
      chunk.push(
        bus.prepare(contract, { key: keys[index % KEYS] as string, seq: Math.floor(index / KEYS) }),
      );
    }
    await bus.publishBatch(chunk);
  }
  const published = Date.now();
  await waitFor(() => handled >= EVENTS || violations.length > 0, {
    timeoutMs: 110_000,
    intervalMs: 100,
    description: `${EVENTS} events handled (handled ${handled})`,
  });
  const consumed = Date.now();
  console.log(
    `per-key order: published ${EVENTS} in ${published - started} ms, all handled after ${consumed - started} ms; ` +
      `peak in flight ${peakTotal} (per partition ${peakPerPartition.join('/')})`,
  );

  expect(violations.slice(0, 10)).toEqual([]);
  expect(handled).toBe(EVENTS);
  // Every key saw all of its events, the last one last.
  expect([...nextSeq.values()].every((next) => next === PER_KEY)).toBe(true);
  // Parallel within each partition, never above the subscription's concurrency.
  for (const peak of peakPerPartition) expect(peak).toBeGreaterThan(1);
  expect(peakTotal).toBeLessThanOrEqual(CONCURRENCY);
});
