import { createBus } from '@edakit/core';
import { uniqueNamespace, waitFor } from '@edakit/core/testing';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { TcpProxy } from '../../../transport-rabbitmq/test/support/tcp-proxy';
import { createPostgresOutbox, createRelay } from '../../src';
import { createPool, dropTables, OrderPlaced, uniqueTable } from '../support/postgres';
import {
  brokerHost,
  brokerPort,
  createVhost,
  QueueTap,
  rabbitTransport,
} from '../support/rabbitmq';

const OUTAGE_MS = 10_000;
const WRITE_EVERY_MS = 50;
const KEYS = 10;

let vhost: Awaited<ReturnType<typeof createVhost>>;
const cleanups: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  vhost = await createVhost();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});
afterAll(async () => {
  await vhost.remove();
});

interface Sample {
  readonly at: number;
  readonly outage: boolean;
  readonly pid: number;
  readonly state: string | null;
  /** Age of the session's open transaction, ms; null when none is open. */
  readonly xactMs: number | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('holds no transaction open while RabbitMQ is unreachable for 10 s, and publishes every row committed meanwhile', async () => {
  const ns = uniqueNamespace('obxcut');
  const table = uniqueTable('obx_cut');
  const relayApp = `${ns}-relay`;
  const pool = createPool(4, `${ns}-writer`);
  const relayPool = createPool(4, relayApp);
  cleanups.push(
    () => pool.end(),
    () => relayPool.end(),
    () => dropTables(pool, table),
  );

  const proxy = await TcpProxy.start(brokerHost, brokerPort);
  cleanups.push(() => proxy.close());
  const exchange = `${ns}.events`;
  const transport = rabbitTransport(
    `amqp://guest:guest@127.0.0.1:${proxy.port}/${encodeURIComponent(vhost.name)}`,
    { exchange, publishTimeoutMs: 2_000 },
  );
  cleanups.push(() => transport.close());
  await transport.connect();
  const tap = await QueueTap.open(vhost.url, exchange, `${ns}.tap`);
  cleanups.push(() => tap.close());

  const bus = createBus({ transport, source: '/it/outbox-outage' });
  const outbox = createPostgresOutbox({ pool, bus, table, keepPublished: true });
  await outbox.migrate();
  const relay = createRelay({
    store: createPostgresOutbox({ pool: relayPool, bus, table, keepPublished: true }).store,
    transport,
    batchSize: 100,
    pollIntervalMs: 200,
    wakeOn: [outbox.commits],
  });
  relay.start();
  cleanups.push(() => relay.stop());

  // A writer commits one event every 50 ms, before, during and after the outage.
  const committed: { id: string; key: string; n: number; at: number }[] = [];
  let writing = true;
  const writer = (async () => {
    const next = new Map<string, number>();
    for (let i = 0; writing; i++) {
      const key = `k-${i % KEYS}`;
      const n = (next.get(key) ?? 0) + 1;
      next.set(key, n);
      const envelope = await outbox.transaction((client) =>
        outbox.add(client, OrderPlaced, { orderId: key, n }),
      );
      committed.push({ id: envelope.id, key, n, at: Date.now() });
      await sleep(WRITE_EVERY_MS);
    }
  })();

  // The relay's sessions, every 100 ms.
  const samples: Sample[] = [];
  let sampling = true;
  cleanups.push(async () => {
    sampling = false;
    writing = false;
  });
  const sampler = (async () => {
    while (sampling) {
      const outage = proxy.isDown;
      const result = await pool.query<{
        pid: number;
        state: string | null;
        xact_ms: number | null;
      }>(
        `SELECT pid, state,
           (extract(epoch FROM clock_timestamp() - xact_start) * 1000)::float8 AS xact_ms
         FROM pg_stat_activity WHERE application_name = $1`,
        [relayApp],
      );
      const at = Date.now();
      for (const row of result.rows) {
        samples.push({
          at,
          outage,
          pid: row.pid,
          state: row.state,
          xactMs: row.xact_ms,
        });
      }
      await sleep(100);
    }
  })();

  await waitFor(() => tap.received.length >= 20, {
    timeoutMs: 10_000,
    description: 'the relay to publish before the outage',
  });
  const beforeOutage = relay.metrics();
  proxy.takeDown();
  const cutAt = Date.now();
  await sleep(OUTAGE_MS);
  const duringOutage = relay.metrics();
  proxy.restore();
  const restoredAt = Date.now();
  await sleep(2_000);
  writing = false;
  await writer;

  // Every committed row reaches the queue.
  const ids = committed.map((row) => row.id);
  await waitFor(() => ids.every((id) => tap.counts().has(id)), {
    timeoutMs: 60_000,
    intervalMs: 100,
    description: `every committed row on the queue (${ids.length} committed)`,
  }).catch(async (error: unknown) => {
    // Say where the missing rows are: still pending (and why) or marked published.
    const counts = tap.counts();
    const missing = ids.filter((id) => !counts.has(id));
    const rows = await pool.query(
      `SELECT key, sequence, attempts, last_error, retry_at, dead_at, published_at
       FROM ${table} WHERE id = ANY($1::uuid[]) ORDER BY key, sequence LIMIT 20`,
      [missing],
    );
    console.log(`${missing.length} rows missing; the first:`, rows.rows, relay.metrics());
    throw error;
  });
  const allOutAt = Date.now();
  sampling = false;
  await sampler;
  await sleep(300);
  const counts = tap.counts();
  const known = new Set(ids);
  expect([...counts.keys()].filter((id) => !known.has(id))).toEqual([]);
  expect(ids.filter((id) => !counts.has(id))).toEqual([]);
  const pending = await pool.query<{ pending: string }>(
    `SELECT count(*) AS pending FROM ${table} WHERE published_at IS NULL`,
  );
  expect(Number(pending.rows[0]?.pending)).toBe(0);

  // Per key, first deliveries in commit order.
  const byId = new Map(committed.map((row) => [row.id, row]));
  const firstSeen = new Map<string, number[]>();
  const seen = new Set<string>();
  for (const { id } of tap.delivered()) {
    const row = byId.get(id);
    if (!row || seen.has(id)) continue;
    seen.add(id);
    firstSeen.set(row.key, [...(firstSeen.get(row.key) ?? []), row.n]);
  }
  for (const [key, order] of firstSeen) {
    expect(order, `first deliveries of ${key}`).toEqual([...order].sort((x, y) => x - y));
  }

  // The relay's sessions never sat in a transaction while the broker was away.
  // A sample can land between two statements of a short claim or settle
  // ('idle in transaction' for a round trip: a few ms, ~150 ms on a saturated
  // box); a transaction held across a publish would stay open for the whole
  // 2 s publish timeout.
  const outageSamples = samples.filter((sample) => sample.outage);
  expect(outageSamples.length).toBeGreaterThan(50);
  const idleInTransaction = samples.filter((sample) =>
    sample.state?.startsWith('idle in transaction'),
  );
  expect(
    idleInTransaction.filter((sample) => sample.outage && (sample.xactMs ?? 0) >= 500),
  ).toEqual([]);
  expect(samples.filter((sample) => (sample.xactMs ?? 0) >= 1_000)).toEqual([]);
  // ... although it kept trying to publish.
  expect(duringOutage.outages + duringOutage.failedAttempts).toBeGreaterThan(
    beforeOutage.outages + beforeOutage.failedAttempts,
  );

  const committedDuringOutage = committed.filter((row) => row.at >= cutAt && row.at < restoredAt);
  expect(committedDuringOutage.length).toBeGreaterThan(50);
  const metrics = relay.metrics();
  const firstReceived = new Map<string, number>();
  for (const { id, at } of tap.received) if (!firstReceived.has(id)) firstReceived.set(id, at);
  const backlogOutAt = Math.max(
    ...committed.filter((row) => row.at < restoredAt).map((row) => firstReceived.get(row.id) ?? 0),
  );
  const duplicates = tap.delivered().length - counts.size;
  console.log(
    `broker outage: ${ids.length} rows committed (${committedDuringOutage.length} during the ${OUTAGE_MS} ms cut); ` +
      `the rows committed before the network came back were all on the queue ${backlogOutAt - restoredAt} ms after it did, every row ${allOutAt - restoredAt} ms after; ${duplicates} duplicate(s); ` +
      `relay: ${metrics.claims} claims, ${metrics.outages} outages, ${metrics.failedAttempts} failed attempts, ${metrics.dead} dead; ` +
      `${samples.length} session samples (${outageSamples.length} during the cut), ` +
      `${idleInTransaction.length} 'idle in transaction' sighting(s) between statements (${idleInTransaction.filter((sample) => sample.outage).length} during the cut), ` +
      `longest open transaction seen ${Math.round(Math.max(0, ...samples.map((sample) => sample.xactMs ?? 0)))} ms`,
  );
});

/**
 * A claim that holds a single key cannot tell an outage from a poison row by
 * comparing keys, so the row is blamed and its attempts count down while the
 * broker is away. Yet the transport says what happened ("no connection to
 * RabbitMQ; nothing was sent"): a row must not die of a broker outage. With
 * the default retry (10 attempts, 1 s doubling) a lone key's row dies after
 * about 8.5 minutes of outage; here 3 attempts from 100 ms make that 8 s.
 */
it('does not use up the attempts of a row, alone in its claims, on a broker outage', async () => {
  const ns = uniqueNamespace('obxlone');
  const table = uniqueTable('obx_lone');
  const pool = createPool(4, `${ns}-writer`);
  const relayPool = createPool(2, `${ns}-relay`);
  cleanups.push(
    () => pool.end(),
    () => relayPool.end(),
    () => dropTables(pool, table),
  );
  const proxy = await TcpProxy.start(brokerHost, brokerPort);
  cleanups.push(() => proxy.close());
  const exchange = `${ns}.events`;
  const transport = rabbitTransport(
    `amqp://guest:guest@127.0.0.1:${proxy.port}/${encodeURIComponent(vhost.name)}`,
    { exchange, publishTimeoutMs: 1_000 },
  );
  cleanups.push(() => transport.close());
  await transport.connect();
  const tap = await QueueTap.open(vhost.url, exchange, `${ns}.tap`);
  cleanups.push(() => tap.close());
  const bus = createBus({ transport, source: '/it/outbox-lone-key' });
  const outbox = createPostgresOutbox({ pool, bus, table, keepPublished: true });
  await outbox.migrate();
  const relay = createRelay({
    store: createPostgresOutbox({ pool: relayPool, bus, table, keepPublished: true }).store,
    transport,
    pollIntervalMs: 100,
    retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 100 },
    wakeOn: [outbox.commits],
  });
  relay.start();
  cleanups.push(() => relay.stop());
  const add = (orderId: string) =>
    outbox.transaction((client) => outbox.add(client, OrderPlaced, { orderId, n: 1 }));

  const before = await add('before');
  await waitFor(() => tap.counts().has(before.id) && relay.metrics().published === 1, {
    timeoutMs: 5_000,
  });

  proxy.takeDown();
  const lone = await add('lone');
  await sleep(8_000);
  proxy.restore();
  // The transport reconnects with its own back-off (up to 10 s between tries).
  // Settled, not only on the queue: the message arrives before the relay settles its row.
  await waitFor(() => tap.counts().has(lone.id) && relay.metrics().published === 2, {
    timeoutMs: 20_000,
  }).catch(() => undefined);

  const row = await pool.query<{
    attempts: number;
    last_error: string | null;
    dead: boolean;
    published: boolean;
  }>(
    `SELECT attempts, last_error, dead_at IS NOT NULL AS dead, published_at IS NOT NULL AS published
     FROM ${table} WHERE id = $1`,
    [lone.id],
  );
  console.log('row alone in its claims through an 8 s outage:', row.rows[0], relay.metrics());
  expect(row.rows[0]).toMatchObject({ dead: false, published: true });
  expect(tap.counts().get(lone.id)).toBe(1);
});
