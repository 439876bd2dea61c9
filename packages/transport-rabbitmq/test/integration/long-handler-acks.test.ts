import { type Bus, createBus, on } from '@edakit/core';
import { conformanceContract, Tally, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import type { RabbitMqTransport } from '../../src/index';
import { namespace, startHealthy, stopAll, testTransport, vhost } from '../support/integration';
import { rabbitmqctl } from '../support/rabbitmq-broker';

const buses: Bus[] = [];
afterEach(() => stopAll(buses));

const OTHERS = 5_000;
const CONCURRENCY = 16;

/** What the broker counts for `queue`: ready and unacknowledged messages. */
async function queueCounts(queue: string): Promise<{ ready: number; unacked: number }> {
  const output = await rabbitmqctl(
    'list_queues',
    '-p',
    vhost(),
    'name',
    'messages_ready',
    'messages_unacknowledged',
    '--quiet',
    '--no-table-headers',
  );
  for (const line of output.split('\n')) {
    const [name, ready, unacked] = line.trim().split(/\s+/);
    if (name === queue) return { ready: Number(ready), unacked: Number(unacked) };
  }
  throw new Error(`queue ${queue} not listed`);
}

async function consumerState(transport: RabbitMqTransport) {
  const [state] = (await transport.health()).details.consumers as Array<{
    unacked: number;
    inFlight: number;
  }>;
  return state;
}

/**
 * One handler runs for a long time (here until the test lets it go) while
 * thousands of deliveries of other keys finish behind it. Their acks reach
 * the broker at once, by delivery tag (a multiple ack never spans the running
 * one): the queue's messages_unacknowledged falls to 1 while the long one
 * still runs. And the consumer keeps no record of the deliveries it acked:
 * what it holds stays within the prefetch window, however many finish.
 */
it('acks deliveries that finished behind a long-running one, and holds none of them', async () => {
  const ns = namespace('longack');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const transport = testTransport();
  const bus = createBus({ transport, source: '/it/long-ack' });
  buses.push(bus);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let longRunning = false;
  let longDone = false;
  const handled = new Tally();
  bus.subscribe({
    group,
    concurrency: CONCURRENCY,
    handlers: [
      on(contract, async (event) => {
        if (event.data.key === 'long') {
          longRunning = true;
          // Bounded, so a failing test never hangs: the assertions happen well before.
          await Promise.race([gate, new Promise((resolve) => setTimeout(resolve, 60_000))]);
          longDone = true;
        }
        handled.add(event.id);
      }),
    ],
  });
  await startHealthy(bus);

  const [long] = await bus.publishBatch([bus.prepare(contract, { key: 'long', seq: 0 })]);
  await waitFor(() => longRunning, { timeoutMs: 10_000, description: 'the long handler running' });
  const started = Date.now();
  const others: string[] = [];
  for (let offset = 0; offset < OTHERS; offset += 500) {
    const batch = await bus.publishBatch(
      Array.from({ length: 500 }, (_, i) =>
        bus.prepare(contract, { key: `k${offset + i}`, seq: offset + i + 1 }),
      ),
    );
    others.push(...batch.map((envelope) => envelope.id));
  }

  let maxHeld = 0;
  await waitFor(
    async () => {
      maxHeld = Math.max(maxHeld, (await consumerState(transport))?.unacked ?? 0);
      return others.every((id) => handled.has(id)) || undefined;
    },
    { timeoutMs: 60_000, intervalMs: 20, description: `all ${OTHERS} other events handled` },
  );
  // The broker has their acks while the long one still runs: only it is unacknowledged.
  const counts = await waitFor(
    async () => {
      const now = await queueCounts(group);
      return now.unacked === 1 && now.ready === 0 ? now : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 100, description: 'the broker to see every other ack' },
  );
  const held = (await consumerState(transport))?.unacked ?? 0;
  const ackedWithin = Date.now() - started;
  expect(longDone).toBe(false);
  expect(handled.has(long?.id as string)).toBe(false);
  console.log(
    `long handler: ${OTHERS} deliveries behind it handled and acked in ${ackedWithin} ms ` +
      `(broker: ${counts.unacked} unacked, ${counts.ready} ready); the consumer held at most ` +
      `${maxHeld} deliveries (prefetch ${CONCURRENCY}), ${held} after`,
  );
  expect(held).toBe(1);
  expect(maxHeld).toBeLessThanOrEqual(CONCURRENCY);

  release();
  await waitFor(() => handled.has(long?.id as string) || undefined, {
    timeoutMs: 10_000,
    description: 'the long handler done',
  });
  await waitFor(
    async () => {
      const now = await queueCounts(group);
      return now.unacked === 0 || undefined;
    },
    { timeoutMs: 10_000, intervalMs: 100, description: 'the long one acked too' },
  );
  expect((await consumerState(transport))?.unacked).toBe(0);
  expect(handled.total).toBe(OTHERS + 1);
});
