import { type Bus, createBus, on } from '@edakit/core';
import { conformanceContract, Tally, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import {
  capturingLogger,
  consumerCounts,
  namespace,
  sleep,
  startHealthy,
  stopAll,
  testTransport,
} from '../support/integration';
import { rabbitmqctl, rabbitmqctlLater } from '../support/rabbitmq-broker';

const buses: Bus[] = [];
afterEach(() => stopAll(buses));

const EVENTS = 10_000;
const BATCH = 100;
/** Publishing is paced (about 1000 events/s) so that the restart lands in the middle of it. */
const PAUSE_MS = 100;
/** The bound: every subscription consuming again, once, this soon after start_app. */
const RECOVERY_LIMIT_MS = 15_000;
/** The transport's default reconnect timings, not the tests' faster ones. */
const RECONNECT = { reconnectDelayMs: 100, maxReconnectDelayMs: 10_000 };

/**
 * A real broker restart (`rabbitmqctl stop_app`, then `start_app`) in the
 * middle of a 10k-event publish + consume run, with three subscriptions: two
 * groups on quorum queues (one consume connection) and one on a classic queue
 * (another transport). No event whose publish resolved is lost: each group
 * handles every confirmed id at least once (rejected publishes are retried
 * with the same ids, as an outbox relay would). Every subscription consumes
 * again, with exactly one consumer as the broker sees it, within 15 s of
 * start_app. start_app always runs (finally, and a watchdog if this process dies).
 */
it('loses no confirmed event across rabbitmqctl stop_app / start_app and consumes again within 15 s', async () => {
  const ns = namespace('restart');
  const contract = conformanceContract(ns);
  const logger = capturingLogger();
  const quorum = createBus({
    transport: testTransport({ ...RECONNECT, logger }),
    source: '/it/restart',
  });
  const classic = createBus({
    transport: testTransport({ ...RECONNECT, logger, queueType: 'classic' }),
    source: '/it/restart',
  });
  buses.push(quorum, classic);
  const groups = [
    { bus: quorum, group: `${ns}-q1`, handled: new Tally() },
    { bus: quorum, group: `${ns}-q2`, handled: new Tally() },
    { bus: classic, group: `${ns}-c`, handled: new Tally() },
  ];
  for (const { bus, group, handled } of groups) {
    bus.subscribe({
      group,
      concurrency: 8,
      handlers: [
        on(contract, async (event) => {
          await sleep(1);
          handled.add(event.id);
        }),
      ],
    });
  }
  await startHealthy(quorum);
  await startHealthy(classic);

  const publisher = createBus({
    transport: testTransport({ ...RECONNECT, logger }),
    source: '/it/restart',
  });
  buses.push(publisher);
  const confirmed = new Set<string>();
  let rejected = 0;
  let slowestBatchMs = 0;
  const publishing = (async () => {
    for (let offset = 0; offset < EVENTS; offset += BATCH) {
      const batch = Array.from({ length: BATCH }, (_, i) =>
        publisher.prepare(contract, { key: `k${(offset + i) % 37}`, seq: offset + i }),
      );
      // The same prepared events (same ids) until the broker confirms them.
      for (;;) {
        const at = Date.now();
        try {
          for (const envelope of await publisher.publishBatch(batch)) confirmed.add(envelope.id);
          slowestBatchMs = Math.max(slowestBatchMs, Date.now() - at);
          break;
        } catch {
          rejected++;
          await sleep(200);
        }
      }
      await sleep(PAUSE_MS);
    }
  })();

  const leastHandled = () => Math.min(...groups.map(({ handled }) => handled.distinct));
  await waitFor(() => (confirmed.size >= 3_000 && leastHandled() >= 2_000) || undefined, {
    timeoutMs: 60_000,
    description: '3000 events confirmed and 2000 handled by every group before the restart',
  });
  const confirmedAtRestart = confirmed.size;
  const queues = groups.map(({ group }) => group);
  let startedAt = 0;
  let stoppedFor = 0;
  const watchdog = rabbitmqctlLater(60_000, 'start_app');
  const stopping = Date.now();
  try {
    await rabbitmqctl('stop_app');
    stoppedFor = Date.now();
    await sleep(1_000);
  } finally {
    await rabbitmqctl('start_app');
    startedAt = Date.now();
    stoppedFor = startedAt - (stoppedFor || stopping);
    watchdog();
  }
  const handledAtRestart = leastHandled();

  // Every subscription consuming again, exactly once, as the broker sees it.
  const recovered = await waitFor(
    async () => {
      const counts = await consumerCounts(rabbitmqctl).catch(() => undefined);
      return counts && queues.every((queue) => counts.get(queue) === 1) ? Date.now() : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, description: 'one consumer on every group queue' },
  );
  const recoveryMs = recovered - startedAt;

  await publishing;
  await waitFor(
    () => groups.every(({ handled }) => [...confirmed].every((id) => handled.has(id))) || undefined,
    {
      timeoutMs: 120_000,
      intervalMs: 200,
      description: 'every confirmed event handled by every group',
    },
  );
  await waitFor(
    async () =>
      ((await quorum.health()).status === 'up' && (await classic.health()).status === 'up') ||
      undefined,
    { timeoutMs: 15_000, description: 'the consumers healthy again' },
  );

  const duplicates = groups.map(
    ({ group, handled }) => `${group}: ${handled.total - handled.distinct}`,
  );
  console.log(
    `broker restart: stop_app + start_app took ${startedAt - stopping} ms ` +
      `(app down ${stoppedFor} ms); every group consuming again, one consumer each, ${recoveryMs} ms ` +
      `after start_app; ${confirmedAtRestart} confirmed at the restart, ${confirmed.size} in all, ` +
      `${rejected} batch publish(es) rejected and retried, slowest confirmed batch ${slowestBatchMs} ms; ` +
      `${handledAtRestart} handled by every group at the restart; duplicates ${duplicates.join(', ')}`,
  );
  // The restart hit both sides in the middle of the run.
  expect(confirmedAtRestart).toBeLessThan(EVENTS);
  expect(handledAtRestart).toBeLessThan(EVENTS);
  expect(confirmed.size).toBe(EVENTS);
  expect(recoveryMs).toBeLessThanOrEqual(RECOVERY_LIMIT_MS);
  const counts = await consumerCounts(rabbitmqctl);
  for (const queue of queues) expect(counts.get(queue)).toBe(1);
  const stale = logger.entries.filter((entry) =>
    JSON.stringify(entry.fields).includes('unknown delivery tag'),
  );
  expect(stale).toEqual([]);
});
