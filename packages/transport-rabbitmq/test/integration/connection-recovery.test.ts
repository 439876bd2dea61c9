import { type Bus, createBus, on } from '@edakit/core';
import { conformanceContract, Tally, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import type { RabbitMqTransport } from '../../src/index';
import {
  capturingLogger,
  consumerCounts,
  namespace,
  sleep,
  startHealthy,
  stopAll,
  testTransport,
  vhost,
} from '../support/integration';
import { rabbitmqctl } from '../support/rabbitmq-broker';

const buses: Bus[] = [];
afterEach(() => stopAll(buses));

const EVENTS = 2_000;

/**
 * The broker closes every connection of the vhost (ours: publisher and
 * consumer) while events are being handled. The transport reconnects,
 * re-declares, consumes again with exactly one consumer, never acks a stale
 * delivery tag, and nothing published is lost.
 */
it('recovers from rabbitmqctl close_all_connections during consumption', async () => {
  const ns = namespace('recover');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const logger = capturingLogger();
  const handled = new Tally();
  const consumerTransport: RabbitMqTransport = testTransport({ logger });
  const consumer = createBus({ transport: consumerTransport, source: '/it/recover' });
  buses.push(consumer);
  consumer.subscribe({
    group,
    concurrency: 8,
    handlers: [
      on(contract, async (event) => {
        await sleep(8);
        handled.add(event.id);
      }),
    ],
  });
  await startHealthy(consumer);

  const publisher = createBus({ transport: testTransport({ logger }), source: '/it/recover' });
  buses.push(publisher);
  const first = await publisher.publishBatch(
    Array.from({ length: EVENTS }, (_, seq) =>
      publisher.prepare(contract, { key: `k${seq % 50}`, seq }),
    ),
  );

  await waitFor(() => handled.distinct >= 200, { timeoutMs: 30_000, description: '200 handled' });
  await rabbitmqctl('close_all_connections', '-p', vhost(), 'edakit recovery test');
  const handledAtClose = handled.distinct;

  // The publisher comes back too: publish more once it is connected again.
  const second = await waitFor(
    async () =>
      publisher
        .publishBatch(
          Array.from({ length: 100 }, (_, seq) =>
            publisher.prepare(contract, { key: `late${seq % 5}`, seq: EVENTS + seq }),
          ),
        )
        .catch(() => undefined),
    { timeoutMs: 30_000, intervalMs: 200, description: 'a publish after the reconnect' },
  );
  const published = [...first, ...second].map((envelope) => envelope.id);
  await waitFor(() => published.every((id) => handled.has(id)) || undefined, {
    timeoutMs: 60_000,
    description: `all ${published.length} events handled after the recovery`,
  });
  await waitFor(async () => (await consumer.health()).status === 'up', {
    timeoutMs: 15_000,
    description: 'the consumer healthy again',
  });

  expect(handledAtClose).toBeLessThan(EVENTS);
  const health = await consumerTransport.health();
  const [state] = health.details.consumers as Array<{ resubscribes: number; running: boolean }>;
  expect(state?.running).toBe(true);
  expect(state?.resubscribes).toBeGreaterThanOrEqual(1);
  // Exactly one consumer on the group's queue, as the broker sees it.
  const counts = await consumerCounts(rabbitmqctl);
  expect(counts.get(group)).toBe(1);
  // Redelivery of what was unacked at the close: a few duplicates at most, never a stale ack.
  expect(handled.total - handled.distinct).toBeLessThanOrEqual(16);
  const stale = logger.entries.filter((entry) =>
    JSON.stringify(entry.fields).includes('unknown delivery tag'),
  );
  expect(stale).toEqual([]);
  expect(logger.entries.some((entry) => entry.message.includes('resubscribed'))).toBe(true);
});
