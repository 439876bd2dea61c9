import { createBus } from '@edakit/core';
import { uniqueNamespace, waitFor } from '@edakit/core/testing';
import type { RabbitMqTransport } from '@edakit/transport-rabbitmq';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { CommitListener, createPostgresOutbox, createRelay, type PostgresOutbox } from '../../src';
import {
  createPool,
  DATABASE_URL,
  dropTables,
  OrderPlaced,
  uniqueTable,
} from '../support/postgres';
import { createVhost, QueueTap, rabbitTransport } from '../support/rabbitmq';

let vhost: Awaited<ReturnType<typeof createVhost>>;
let transport: RabbitMqTransport;
let tap: QueueTap;
let exchange: string;
let bus: ReturnType<typeof createBus>;
beforeAll(async () => {
  vhost = await createVhost();
  const ns = uniqueNamespace('obxlisten');
  exchange = `${ns}.events`;
  transport = rabbitTransport(vhost.url, { exchange });
  await transport.connect();
  tap = await QueueTap.open(vhost.url, exchange, `${ns}.tap`);
  bus = createBus({ transport, source: '/it/outbox-listen' });
});
afterAll(async () => {
  await transport?.close();
  await tap?.close();
  await vhost?.remove();
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const RECONNECT_MS = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freshOutbox(notify: boolean): Promise<{ pool: pg.Pool; outbox: PostgresOutbox }> {
  const pool = createPool(4, uniqueNamespace('obxwriter'));
  const table = uniqueTable('obx_listen');
  const outbox = createPostgresOutbox({ pool, bus, table, notify });
  await outbox.migrate();
  cleanups.push(
    () => pool.end(),
    () => dropTables(pool, table),
  );
  return { pool, outbox };
}

/** Commits one event and resolves with the ms from its commit to its arrival on the queue. */
async function commitAndTime(
  outbox: PostgresOutbox,
  key: string,
  timeoutMs: number,
): Promise<number> {
  const envelope = await outbox.transaction((client) =>
    outbox.add(client, OrderPlaced, { orderId: key, n: 1 }),
  );
  const committedAt = Date.now();
  const arrival = await waitFor(() => tap.received.find((message) => message.id === envelope.id), {
    timeoutMs,
    intervalMs: 5,
    description: `event of ${key} on the queue`,
  });
  return arrival.at - committedAt;
}

it('wakes a relay that polls once a minute on NOTIFY, and again after its LISTEN connection was killed', async () => {
  const { pool, outbox } = await freshOutbox(true);
  const listenerApp = uniqueNamespace('obxlistener');
  const listener = new CommitListener({
    connect: () => new pg.Client({ connectionString: DATABASE_URL, application_name: listenerApp }),
    tables: outbox.tables,
    reconnectDelayMs: RECONNECT_MS,
  });
  await listener.ready();
  cleanups.push(() => listener.close());
  const relayPool = createPool(2, uniqueNamespace('obxrelay'));
  cleanups.push(() => relayPool.end());
  const relay = createRelay({
    store: createPostgresOutbox({ pool: relayPool, bus, table: outbox.tables.outbox }).store,
    transport,
    pollIntervalMs: 60_000,
    wakeOn: [listener],
  });
  relay.start();
  cleanups.push(() => relay.stop());
  await sleep(500); // the relay's first look found nothing: it now sleeps for a minute

  const first = await commitAndTime(outbox, 'before-kill', 2_000);
  // The row reaches the queue before the relay settles it; after a batch the
  // relay looks once more before it sleeps. Let it fall asleep, or that look
  // would find the next row without any wake-up.
  await sleep(300);

  // Kill the LISTEN session; a row committed once it is gone notifies no one,
  // and is found by the wake-up the listener gives once it listens again.
  const killed = await pool.query<{ pid: number; terminated: boolean }>(
    'SELECT pid, pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE application_name = $1',
    [listenerApp],
  );
  expect(killed.rows).toHaveLength(1);
  expect(killed.rows[0]?.terminated).toBe(true);
  const sessions = async () =>
    (
      await pool.query<{ pid: number; started: Date }>(
        'SELECT pid, backend_start AS started FROM pg_stat_activity WHERE application_name = $1',
        [listenerApp],
      )
    ).rows;
  await waitFor(async () => (await sessions()).length === 0, {
    timeoutMs: 2_000,
    description: 'the LISTEN session to end',
  });
  const whileDown = await commitAndTime(outbox, 'while-down', RECONNECT_MS + 2_000);
  const [reconnected] = await sessions();
  expect(reconnected?.pid).toBeDefined();
  expect(reconnected?.pid).not.toBe(killed.rows[0]?.pid);

  // Notifications work again.
  const after: number[] = [];
  for (let i = 0; i < 5; i++) {
    after.push(await commitAndTime(outbox, `after-${i}`, 2_000));
    await sleep(200);
  }
  expect(Math.max(first, ...after)).toBeLessThan(2_000);
  expect(whileDown).toBeLessThan(RECONNECT_MS + 2_000);
  await waitFor(() => relay.metrics().published === 7, { timeoutMs: 2_000 });
  console.log(
    `LISTEN/NOTIFY: commit -> queue ${first} ms before the kill, ${whileDown} ms for the row committed while it was gone (reconnect delay ${RECONNECT_MS} ms), ` +
      `${after.join('/')} ms after it reconnected (relay polls every 60 s)`,
  );
});

it('publishes within the poll interval with notifications off and nothing to wake the relay', async () => {
  const pollIntervalMs = 300;
  const { outbox } = await freshOutbox(false);
  const relayPool = createPool(2, uniqueNamespace('obxrelay'));
  cleanups.push(() => relayPool.end());
  const relay = createRelay({
    store: createPostgresOutbox({ pool: relayPool, bus, table: outbox.tables.outbox }).store,
    transport,
    pollIntervalMs,
  });
  relay.start();
  cleanups.push(() => relay.stop());
  await sleep(200);

  const latencies: number[] = [];
  for (let i = 0; i < 12; i++) {
    await sleep(50 + Math.floor(Math.random() * 400));
    latencies.push(await commitAndTime(outbox, `polled-${i}`, 2_000));
  }
  // The relay looks at most one interval after a commit, then publishes in one round trip.
  expect(Math.max(...latencies)).toBeLessThan(pollIntervalMs + 250);
  await waitFor(() => relay.metrics().published === 12, { timeoutMs: 2_000 });
  console.log(
    `polling only (${pollIntervalMs} ms): commit -> queue ${latencies.join('/')} ms (max ${Math.max(...latencies)})`,
  );
});
