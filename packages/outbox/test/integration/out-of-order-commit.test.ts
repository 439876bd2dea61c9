import { createBus } from '@edakit/core';
import { uniqueNamespace, waitFor } from '@edakit/core/testing';
import type { RabbitMqTransport } from '@edakit/transport-rabbitmq';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createPostgresOutbox, createRelay, type PostgresOutbox, type Relay } from '../../src';
import { createPool, dropTables, OrderPlaced, uniqueTable } from '../support/postgres';
import { createVhost, QueueTap, rabbitTransport } from '../support/rabbitmq';

let vhost: Awaited<ReturnType<typeof createVhost>>;
beforeAll(async () => {
  vhost = await createVhost();
});
afterAll(async () => {
  await vhost.remove();
});

interface Setup {
  readonly pool: pg.Pool;
  readonly relayPool: pg.Pool;
  readonly table: string;
  readonly outbox: PostgresOutbox;
  readonly relay: Relay;
  readonly tap: QueueTap;
  readonly transport: RabbitMqTransport;
}
let setup: Setup | undefined;
const held: pg.PoolClient[] = [];

afterEach(async () => {
  for (const client of held.splice(0)) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
  if (!setup) return;
  const { relay, relayPool, transport, tap, pool, table } = setup;
  setup = undefined;
  await relay.stop();
  await transport.close();
  await tap.close();
  await dropTables(pool, table);
  await Promise.all([pool.end(), relayPool.end()]);
});

/** An outbox, a relay to RabbitMQ (commit signal + 200 ms polls) and a consumer on its exchange. */
async function start(): Promise<Setup> {
  const ns = uniqueNamespace('obxooo');
  const pool = createPool(6, `${ns}-writers`);
  const relayPool = createPool(2, `${ns}-relay`);
  const table = uniqueTable('obx_ooo');
  const exchange = `${ns}.events`;
  const transport = rabbitTransport(vhost.url, { exchange });
  await transport.connect();
  const bus = createBus({ transport, source: '/it/outbox-out-of-order' });
  const outbox = createPostgresOutbox({ pool, bus, table, keepPublished: true });
  await outbox.migrate();
  const tap = await QueueTap.open(vhost.url, exchange, `${ns}.tap`);
  const relay = createRelay({
    store: createPostgresOutbox({ pool: relayPool, bus, table, keepPublished: true }).store,
    transport,
    pollIntervalMs: 200,
    wakeOn: [outbox.commits],
  });
  relay.start();
  setup = { pool, relayPool, table, outbox, tap, transport, relay };
  return setup;
}

async function openTransaction(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  held.push(client);
  await client.query('BEGIN');
  return client;
}

async function commit(client: pg.PoolClient): Promise<void> {
  await client.query('COMMIT');
  held.splice(held.indexOf(client), 1);
  client.release();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('publishes a row whose transaction commits after a later one: nothing is skipped', async () => {
  const { pool, table, outbox, tap } = await start();

  // A takes the lower id and stays open.
  const a = await openTransaction(pool);
  const envelopeA = await outbox.add(a, OrderPlaced, { orderId: 'k1', n: 1 });
  // B (then C) take higher ids, commit, and are published while A is open.
  const envelopeB = await outbox.transaction((client) =>
    outbox.add(client, OrderPlaced, { orderId: 'k2', n: 1 }),
  );
  expect(envelopeA.id < envelopeB.id).toBe(true);
  await waitFor(() => tap.ids().includes(envelopeB.id), {
    timeoutMs: 5_000,
    description: "B's event on the queue",
  });
  const envelopeC = await outbox.transaction((client) =>
    outbox.add(client, OrderPlaced, { orderId: 'k3', n: 1 }),
  );
  await waitFor(() => tap.ids().includes(envelopeC.id), {
    timeoutMs: 5_000,
    description: "C's event on the queue",
  });
  await sleep(500); // several polls while A is still open
  expect(tap.ids()).toEqual([envelopeB.id, envelopeC.id]);
  const visible = await pool.query<{ id: string; published: boolean }>(
    `SELECT id, published_at IS NOT NULL AS published FROM ${table} ORDER BY id`,
  );
  expect(visible.rows).toEqual([
    { id: envelopeB.id, published: true },
    { id: envelopeC.id, published: true },
  ]);

  // A commits last (no commit signal: a plain client), and is still published.
  await commit(a);
  await waitFor(() => tap.ids().includes(envelopeA.id), {
    timeoutMs: 5_000,
    description: "A's event on the queue after its late commit",
  });
  await sleep(300);
  expect(tap.ids()).toEqual([envelopeB.id, envelopeC.id, envelopeA.id]);
  const after = await pool.query<{ pending: string }>(
    `SELECT count(*) AS pending FROM ${table} WHERE published_at IS NULL`,
  );
  expect(Number(after.rows[0]?.pending)).toBe(0);
});

it('makes the second writer of a key wait for the first, and publishes the key in sequence order', async () => {
  const { pool, table, outbox, tap } = await start();

  const a = await openTransaction(pool);
  const envelope1 = await outbox.add(a, OrderPlaced, { orderId: 'k', n: 1 });
  const b = await openTransaction(pool);
  const pidB = (await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
  let added = false;
  const addB = outbox.add(b, OrderPlaced, { orderId: 'k', n: 2 }).then((envelope) => {
    added = true;
    return envelope;
  });

  // B's add is blocked on A's lock of the key's counter row.
  await sleep(500);
  expect(added).toBe(false);
  const waiting = await pool.query<{ state: string; wait_event_type: string | null }>(
    'SELECT state, wait_event_type FROM pg_stat_activity WHERE pid = $1',
    [pidB],
  );
  expect(waiting.rows).toEqual([{ state: 'active', wait_event_type: 'Lock' }]);
  expect(tap.received).toEqual([]);

  // A commits; B's add goes through, B commits at once.
  await commit(a);
  const envelope2 = await addB;
  await commit(b);

  await waitFor(() => tap.received.length >= 2, {
    timeoutMs: 5_000,
    description: 'both events on the queue',
  });
  await sleep(300);
  expect(tap.ids()).toEqual([envelope1.id, envelope2.id]);
  expect(tap.delivered().map((m) => (JSON.parse(m.body.toString()) as { n: number }).n)).toEqual([
    1, 2,
  ]);
  const stored = await pool.query<{ id: string; sequence: string }>(
    `SELECT id, sequence FROM ${table} WHERE published_at IS NOT NULL ORDER BY sequence`,
  );
  expect(stored.rows.map((row) => [row.id, Number(row.sequence)])).toEqual([
    [envelope1.id, 1],
    [envelope2.id, 2],
  ]);
});
