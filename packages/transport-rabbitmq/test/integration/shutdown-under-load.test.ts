import { type Bus, createBus, on } from '@edakit/core';
import { conformanceContract, Tally, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { namespace, sleep, startHealthy, stopAll, testTransport } from '../support/integration';

const buses: Bus[] = [];
afterEach(() => stopAll(buses));

const EVENTS = 3_000;

/**
 * A consumer stops while events keep arriving: its running handlers finish
 * and are acknowledged, what it had buffered goes back to the queue, and a
 * second member picks up the rest. Every event is completed exactly once.
 */
it('stops under load without losing or repeating an event', async () => {
  const ns = namespace('shutdown');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const completed = new Tally();
  const byA = new Tally();
  const handler = (mine: Tally) =>
    on(contract, async (event) => {
      await sleep(2);
      completed.add(event.id);
      mine.add(event.id);
    });

  const a = createBus({ transport: testTransport(), source: '/it/shutdown' });
  buses.push(a);
  a.subscribe({ group, concurrency: 8, handlers: [handler(byA)] });
  await startHealthy(a);

  const publisher = createBus({ transport: testTransport(), source: '/it/shutdown' });
  buses.push(publisher);
  const ids: string[] = [];
  const publishing = (async () => {
    for (let offset = 0; offset < EVENTS; offset += 100) {
      const sent = await publisher.publishBatch(
        Array.from({ length: 100 }, (_, i) =>
          publisher.prepare(contract, { key: `k${(offset + i) % 37}`, seq: offset + i }),
        ),
      );
      ids.push(...sent.map((envelope) => envelope.id));
      await sleep(5);
    }
  })();

  await waitFor(() => completed.distinct >= 500 || undefined, {
    timeoutMs: 30_000,
    description: '500 events completed by the first member',
  });
  await a.stop({ deadlineMs: 10_000 });
  const doneByA = byA.distinct;

  const byB = new Tally();
  const b = createBus({ transport: testTransport(), source: '/it/shutdown' });
  buses.push(b);
  b.subscribe({ group, concurrency: 8, handlers: [handler(byB)] });
  await startHealthy(b);
  await publishing;
  await waitFor(() => completed.distinct === EVENTS || undefined, {
    timeoutMs: 60_000,
    description: `all ${EVENTS} events completed`,
  });
  await sleep(500);

  expect(doneByA).toBeGreaterThanOrEqual(500);
  expect(doneByA).toBeLessThan(EVENTS);
  expect(ids.every((id) => completed.has(id))).toBe(true);
  expect(completed.duplicates()).toEqual([]);
  expect(completed.total).toBe(EVENTS);
  expect(byB.distinct).toBe(EVENTS - doneByA);
});
