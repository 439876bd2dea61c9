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
  vhost,
} from '../support/integration';
import { brokerHost, brokerPort, rabbitmqctl } from '../support/rabbitmq-broker';
import { TcpProxy } from '../support/tcp-proxy';

const buses: Bus[] = [];
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await stopAll(buses);
  await proxy?.close();
  proxy = undefined;
});

const EVENTS = 5_000;

/**
 * What a broker restart looks like from the client: every connection drops,
 * several times, in the middle of a publish + consume run. No event whose
 * publish resolved is lost (rejected publishes are retried by the caller, as
 * an outbox relay would), the consumer ends with exactly one consumer on its
 * queue, and no ack ever goes to a channel that did not deliver it.
 */
it('loses no confirmed event across repeated connection drops mid-run', async () => {
  proxy = await TcpProxy.start(brokerHost, brokerPort);
  const url = `amqp://guest:guest@127.0.0.1:${proxy.port}/${encodeURIComponent(vhost())}`;
  const ns = namespace('cuts');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const logger = capturingLogger();
  const handled = new Tally();
  const consumer = createBus({ transport: testTransport({ url, logger }), source: '/it/cuts' });
  buses.push(consumer);
  consumer.subscribe({
    group,
    concurrency: 8,
    handlers: [
      on(contract, async (event) => {
        await sleep(1);
        handled.add(event.id);
      }),
    ],
  });
  await startHealthy(consumer);

  const publisher = createBus({ transport: testTransport({ url, logger }), source: '/it/cuts' });
  buses.push(publisher);
  const confirmed = new Set<string>();
  let rejected = 0;
  const publishing = (async () => {
    for (let offset = 0; offset < EVENTS; offset += 100) {
      const batch = Array.from({ length: 100 }, (_, i) =>
        publisher.prepare(contract, { key: `k${(offset + i) % 31}`, seq: offset + i }),
      );
      // The same prepared events (same ids) until the broker confirms them.
      for (;;) {
        try {
          for (const envelope of await publisher.publishBatch(batch)) confirmed.add(envelope.id);
          break;
        } catch {
          rejected++;
          await sleep(100);
        }
      }
    }
  })();

  for (let cut = 0; cut < 3; cut++) {
    await waitFor(() => handled.distinct >= (cut + 1) * 1_000 || undefined, {
      timeoutMs: 60_000,
      description: `${(cut + 1) * 1_000} events handled before cut ${cut + 1}`,
    });
    proxy.cut();
  }
  await publishing;
  await waitFor(() => [...confirmed].every((id) => handled.has(id)) || undefined, {
    timeoutMs: 60_000,
    description: 'every confirmed event handled',
  });
  await waitFor(async () => (await consumer.health()).status === 'up' || undefined, {
    timeoutMs: 15_000,
    description: 'the consumer healthy again',
  });

  console.log(
    `network cuts: ${confirmed.size} confirmed, ${rejected} batch publish(es) rejected and retried, ` +
      `${handled.total - handled.distinct} redelivered duplicate(s)`,
  );
  expect(confirmed.size).toBe(EVENTS);
  expect((await consumerCounts(rabbitmqctl)).get(group)).toBe(1);
  const stale = logger.entries.filter((entry) =>
    JSON.stringify(entry.fields).includes('unknown delivery tag'),
  );
  expect(stale).toEqual([]);
});
