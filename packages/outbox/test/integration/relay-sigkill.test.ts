import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createBus } from '@edakit/core';
import { uniqueNamespace, waitFor } from '@edakit/core/testing';
import type { KafkaTransport } from '@edakit/transport-kafka';
import type pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { createPostgresOutbox, createRelay, type Relay } from '../../src';
import { fillOutbox } from '../fixtures/fill';
import { deleteTopics, kafkaTransport, rawKafka, readWholeTopic } from '../support/kafka';
import {
  createPool,
  dropTables,
  OrderPlaced,
  outboxFixture,
  uniqueTable,
} from '../support/postgres';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const EVENTS = 10_000;
const KEYS = 500; // 20 events per key
const LEASE_MS = 3_000;
const POLL_MS = 250;
const BATCH = 250;
const KILLS = 3;

const ns = uniqueNamespace('obxkill');
const topicPrefix = `${ns}.`;
const topic = `${topicPrefix}${OrderPlaced.channel}`;
const table = uniqueTable('obx_kill');
const pools: pg.Pool[] = [];
const transports: KafkaTransport[] = [];
const children: ChildProcess[] = [];
let relay: Relay | undefined;

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await relay?.stop();
  await Promise.all(transports.map((transport) => transport.close().catch(() => undefined)));
  if (pools[0]) await dropTables(pools[0], table).catch(() => undefined);
  await Promise.all(pools.map((pool) => pool.end()));
  await deleteTopics(rawKafka(), topicPrefix);
});

interface Child {
  readonly process: ChildProcess;
  readonly exited: Promise<NodeJS.Signals | number | null>;
  published: number;
  ready: boolean;
  stderr: string;
}

function spawnRelay(index: number): Child {
  const options = {
    table,
    topicPrefix,
    batchSize: BATCH,
    leaseMs: LEASE_MS,
    pollIntervalMs: POLL_MS,
    applicationName: `${ns}-child-${index}`,
  };
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      resolve(packageDir, 'test/fixtures/kafka-relay.ts'),
      JSON.stringify(options),
    ],
    { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const state: Child = {
    process: child,
    exited: new Promise((done) => child.once('exit', (code, signal) => done(signal ?? code))),
    published: 0,
    ready: false,
    stderr: '',
  };
  child.stderr?.on('data', (chunk: Buffer) => {
    state.stderr += chunk.toString();
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const [what, count] = line.split(' ');
    if (what === 'ready') state.ready = true;
    else if (what === 'published') state.published = Number(count);
  });
  return state;
}

interface LeasedRow {
  readonly id: string;
  readonly key: string;
  readonly until: Date;
}

/** Live leases (a dead relay's, right after a kill) and the pending rows of their keys. */
async function liveLeasedRows(pool: pg.Pool): Promise<LeasedRow[]> {
  const result = await pool.query<LeasedRow>(
    `SELECT o.id, o.key, l.until FROM ${table}_leases l
     JOIN ${table} o ON o.key = l.key AND o.published_at IS NULL
     WHERE l.until > now()`,
  );
  return result.rows;
}

it('publishes every one of 10k rows after a relay process is SIGKILLed three times, and frees every lease', async () => {
  const pool = createPool(8, `${ns}-test`);
  pools.push(pool);
  const writerTransport = kafkaTransport(topicPrefix);
  transports.push(writerTransport);
  const bus = createBus({ transport: writerTransport, source: '/it/outbox-sigkill' });
  const outbox = createPostgresOutbox({ pool, bus, table, keepPublished: true });
  await outbox.migrate();
  await writerTransport.ensureTopics([OrderPlaced.channel]);

  const fillStarted = Date.now();
  const ids = await fillOutbox(
    outbox,
    OrderPlaced,
    Array.from({ length: EVENTS }, (_, i) => ({
      data: { orderId: `k-${i % KEYS}`, n: Math.floor(i / KEYS) + 1 },
    })),
    { writers: 4, perTransaction: 500, writerOf: (item) => Number(item.data.orderId.slice(2)) },
  );
  console.log(`filled ${EVENTS} rows in ${Date.now() - fillStarted} ms`);
  expect(new Set(ids).size).toBe(EVENTS);

  // Every lease seen, sampled every 50 ms: how long each stayed live.
  const leaseLife = new Map<string, { first: number; lastLive: number }>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const at = Date.now();
      const rows = await pool.query<{ lease: string; live: boolean }>(
        `SELECT key || '/' || token AS lease, until > now() AS live FROM ${table}_leases`,
      );
      for (const { lease, live } of rows.rows) {
        const life = leaseLife.get(lease) ?? { first: at, lastLive: at };
        if (live) life.lastLive = at;
        leaseLife.set(lease, life);
      }
      await new Promise((done) => setTimeout(done, 50));
    }
  })();

  // Three relay processes, each SIGKILLed 300-1500 ms after it started relaying.
  // After each kill, the rows its live leases still cover are noted.
  const underDeadLeases = new Map<string, LeasedRow>();
  const killedAfter: number[] = [];
  for (let kill = 1; kill <= KILLS; kill++) {
    const child = spawnRelay(kill);
    await waitFor(() => child.ready || child.process.exitCode !== null, {
      timeoutMs: 60_000,
      intervalMs: 20,
      description: `relay process ${kill} to start`,
    });
    expect(child.ready, `relay process ${kill} failed to start: ${child.stderr}`).toBe(true);
    const lifetime = randomInt(300, 1501);
    await new Promise((done) => setTimeout(done, lifetime));
    child.process.kill('SIGKILL');
    expect(await child.exited).toBe('SIGKILL');
    killedAfter.push(lifetime);
    const leased = await liveLeasedRows(pool);
    for (const row of leased) if (!underDeadLeases.has(row.id)) underDeadLeases.set(row.id, row);
    const keys = new Set(leased.map((row) => row.key)).size;
    const pending = (await outbox.store.stats()).pending;
    console.log(
      `kill ${kill} after ${lifetime} ms: the process reported ${child.published} published; ${pending} rows pending, ${leased.length} of them (${keys} keys) under live leases of dead relays`,
    );
  }

  // The final relay, in this process, runs to completion.
  const finalPool = createPool(4, `${ns}-final`);
  pools.push(finalPool);
  const finalTransport = kafkaTransport(topicPrefix);
  transports.push(finalTransport);
  await finalTransport.connect();
  const finalStarted = Date.now();
  relay = createRelay({
    store: createPostgresOutbox({ pool: finalPool, bus, table, keepPublished: true }).store,
    transport: finalTransport,
    batchSize: BATCH,
    leaseMs: LEASE_MS,
    pollIntervalMs: POLL_MS,
  });
  relay.start();
  await waitFor(async () => (await outbox.store.stats()).pending === 0, {
    timeoutMs: 90_000,
    intervalMs: 50,
    description: 'the final relay to publish every row',
  });
  const finalMs = Date.now() - finalStarted;
  sampling = false;
  await sampler;
  await relay.stop();
  const metrics = relay.metrics();
  relay = undefined;

  // No key is held once the final relay is done.
  const leases = await pool.query<{ key: string; until: Date; held: boolean }>(
    `SELECT key, until, until > now() AS held FROM ${table}_leases`,
  );
  expect(leases.rows.filter((row) => row.held)).toEqual([]);
  // Expired rows may stay behind (a claim can lease keys it takes no row of,
  // see the next test); they hold nothing.
  const leftover = leases.rows.length;
  // No lease stayed live longer than leaseMs + pollIntervalMs.
  const longest = Math.max(...[...leaseLife.values()].map((life) => life.lastLive - life.first));
  expect(longest).toBeLessThanOrEqual(LEASE_MS + POLL_MS);

  // A dead relay's lease keeps its keys from every other relay until it
  // expires: none of those rows was published before, all of them after.
  const leased = [...underDeadLeases.values()];
  const published = await pool.query<{ id: string; published_at: Date }>(
    `SELECT id, published_at FROM ${table} WHERE id = ANY($1::uuid[])`,
    [leased.map((row) => row.id)],
  );
  const publishedAt = new Map(published.rows.map((row) => [row.id, row.published_at.getTime()]));
  expect(
    leased.filter((row) => (publishedAt.get(row.id) ?? 0) < row.until.getTime()),
    'rows published while a dead relay still held their key',
  ).toEqual([]);
  const afterExpiry = leased.map((row) => (publishedAt.get(row.id) ?? 0) - row.until.getTime());

  // Every id is on the topic at least once; per key, first deliveries in order.
  const records = await readWholeTopic(rawKafka(), topic);
  const counts = new Map<string, number>();
  for (const record of records) counts.set(record.id, (counts.get(record.id) ?? 0) + 1);
  const missing = ids.filter((id) => !counts.has(id));
  expect(missing).toEqual([]);
  const known = new Set(ids);
  expect([...counts.keys()].filter((id) => !known.has(id))).toEqual([]);
  const duplicates = records.length - counts.size;
  const firstSeen = new Map<string, number[]>();
  const seen = new Set<string>();
  for (const record of records) {
    if (seen.has(record.id)) continue;
    seen.add(record.id);
    const n = (JSON.parse(record.value.toString()) as { n: number }).n;
    const key = record.key ?? '';
    firstSeen.set(key, [...(firstSeen.get(key) ?? []), n]);
  }
  expect(firstSeen.size).toBe(KEYS);
  const expectedOrder = Array.from({ length: EVENTS / KEYS }, (_, i) => i + 1);
  for (const [key, order] of firstSeen) {
    expect(order, `first deliveries of ${key}`).toEqual(expectedOrder);
  }

  console.log(
    `relay SIGKILL: ${EVENTS} rows, kills after ${killedAfter.join('/')} ms; final relay published ${metrics.published} in ${finalMs} ms; ` +
      `${records.length} records on the topic, ${duplicates} duplicate(s) over ${[...counts.values()].filter((c) => c > 1).length} id(s); ` +
      `${leaseLife.size} leases sampled, the longest live for ${longest} ms; ${leased.length} rows under dead relays' leases (${new Set(leased.map((row) => row.key)).size} keys), published ${afterExpiry.length === 0 ? '-' : `${Math.round(Math.min(...afterExpiry))}..${Math.round(Math.max(...afterExpiry))} ms`} after the lease expired; ${leftover} expired lease row(s) left`,
  );
});

/**
 * What a relay killed right after its claim leaves behind: its lease should
 * hold the keys whose rows it took, not every key it looked at. Blocked keys
 * wait the full leaseMs after a crash (5,000 of 8,740 pending rows in a run
 * of the test above, for a claim of 250 rows).
 */
it('leases, in a claim a relay dies holding, only the keys whose rows it took', async () => {
  const f = await outboxFixture();
  try {
    // 20 keys x 5 events, added oldest-first across keys.
    for (let n = 1; n <= 5; n++) {
      await f.outbox.transaction(async (client) => {
        for (let key = 0; key < 20; key++) {
          await f.outbox.add(client, OrderPlaced, { orderId: `key-${key}`, n });
        }
      });
    }
    const claim = await f.outbox.store.claim({ limit: 10, leaseMs: 60_000 });
    expect(claim?.records).toHaveLength(10);
    const claimedKeys = [...new Set(claim?.records.map((record) => record.key))].sort();
    // The relay dies here, before its settle.
    const leases = await f.pool.query<{ key: string }>(
      `SELECT key FROM ${f.table}_leases WHERE until > now() ORDER BY key`,
    );
    expect(leases.rows.map((row) => row.key)).toEqual(claimedKeys);
    // Every other key is free for the next relay.
    const next = await f.outbox.store.claim({ limit: 100, leaseMs: 60_000 });
    expect(new Set(next?.records.map((record) => record.key)).size).toBe(20 - claimedKeys.length);
  } finally {
    await f.cleanup();
  }
});
