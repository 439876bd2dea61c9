/**
 * The PostgreSQL outbox relay, draining to Kafka and to RabbitMQ:
 *
 * 1. drain: N events of ~1 KB (bench-kit's Order) are committed to a fresh
 *    outbox table first, then ONE relay (batchSize 1,000 (BENCH_BATCH), default concurrency)
 *    publishes them all; events/s and the client's CPU µs per event
 *    (process.cpuUsage of this process: relay, pg driver, broker client).
 * 2. latency: a writer commits one event per transaction at a steady rate
 *    (default 1,000/s for 10 s, up to 16 transactions at once), the relay
 *    woken in-process after each commit; latency = broker ack (the relay's publish call resolved) minus
 *    the writer's COMMIT returning, per event, p50/p99/max. The relay's own
 *    `publishLatencyMs` (row creation -> broker confirm, last 4,096 rows) is
 *    printed next to it.
 *
 * Run: `npm run bench:outbox` (builds, starts PostgreSQL, Kafka and RabbitMQ).
 * Env: BENCH_EVENTS (default 50000), BENCH_RATE (events/s, default 1000),
 * BENCH_LATENCY_SECONDS (default 10), BENCH_ROUNDS (drain rounds, default 2; the
 * fastest is reported, all are in the JSON), BENCH_ONLY (kafka or rabbitmq),
 * EDAKIT_PG_URL, EDAKIT_KAFKA_BROKERS, EDAKIT_RABBITMQ_URL.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBus, type OutgoingMessage, type Transport } from '@edakit/core';
import {
  createPostgresOutbox,
  createRelay,
  type OutboxStore,
  type PostgresOutbox,
} from '@edakit/outbox';
import { KafkaTransport } from '@edakit/transport-kafka';
import { RabbitMqTransport } from '@edakit/transport-rabbitmq';
import { connect } from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { Order, order } from './bench-kit';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const RATE = Number(process.env.BENCH_RATE ?? 1_000);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const ONLY = process.env.BENCH_ONLY;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const PG_URL = process.env.EDAKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/edakit_test';
const BROKERS = (process.env.EDAKIT_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const AMQP_URL = process.env.EDAKIT_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const WRITERS = 8;
const LATENCY_WRITERS = 16;
const SOURCE = '/bench/outbox';

interface Broker {
  readonly name: 'kafka' | 'rabbitmq';
  readonly transport: Transport & { connect(): Promise<void> };
  cleanup(): Promise<void>;
}

async function kafkaBroker(): Promise<Broker> {
  const prefix = `bench-outbox-${randomUUID().slice(0, 8)}.`;
  const transport = new KafkaTransport({
    client: { clientId: 'bench-outbox', brokers: BROKERS },
    topicPrefix: prefix,
    topics: { partitions: 3, replicationFactor: 1 },
  });
  await transport.ensureTopics([Order.channel]);
  return {
    name: 'kafka',
    transport,
    async cleanup() {
      await transport.close();
      const kafka = new Kafka({
        clientId: 'bench-outbox-admin',
        brokers: BROKERS,
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      await admin.connect();
      const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
      await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

/** A quorum queue bound to the exchange: what a real consumer group's queue looks like. */
async function rabbitBroker(): Promise<Broker> {
  const exchange = `bench-outbox-${randomUUID().slice(0, 8)}`;
  const queue = `${exchange}.all`;
  const transport = new RabbitMqTransport({
    url: AMQP_URL,
    exchange,
    connectionName: 'bench-outbox',
  });
  await transport.connect();
  const connection = await connect(AMQP_URL);
  const channel = await connection.createChannel();
  await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(queue, exchange, '#');
  return {
    name: 'rabbitmq',
    transport,
    async cleanup() {
      await transport.close();
      await channel.deleteQueue(queue);
      await channel.deleteQueue(`${exchange}.unroutable`).catch(() => undefined);
      await channel.deleteExchange(`${exchange}.unroutable`).catch(() => undefined);
      await channel.deleteExchange(exchange);
      await connection.close();
    },
  };
}

function pool(max: number, name: string): pg.Pool {
  const created = new pg.Pool({ connectionString: PG_URL, max, application_name: name });
  created.on('error', () => undefined);
  return created;
}

async function freshOutbox(writers: pg.Pool, transport: Transport): Promise<PostgresOutbox> {
  const table = `bench_outbox_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const bus = createBus({ transport, source: SOURCE });
  const outbox = createPostgresOutbox({ pool: writers, bus, table });
  await outbox.migrate();
  return outbox;
}

async function dropOutbox(writers: pg.Pool, outbox: PostgresOutbox): Promise<void> {
  const { outbox: table, sequences, leases } = outbox.tables;
  await writers.query(`DROP TABLE IF EXISTS ${table}, ${sequences}, ${leases}`);
}

/** N orders through `outbox.add`, 500 per transaction, WRITERS transactions at a time. */
async function fill(outbox: PostgresOutbox, count: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < count) {
        const from = next;
        next = Math.min(count, next + BATCH);
        await outbox.transaction(async (client) => {
          for (let i = from; i < Math.min(count, from + BATCH); i++) {
            await outbox.add(client, Order, order(i));
          }
        });
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

interface DrainResult {
  readonly events: number;
  readonly bodyBytes: number;
  readonly fillPerSecond: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly cpuMicrosPerEvent: number;
  readonly claims: number;
}

async function drain(broker: Broker, writers: pg.Pool): Promise<DrainResult> {
  const outbox = await freshOutbox(writers, broker.transport);
  const fillPerSecond = await fill(outbox, EVENTS);
  const body = await writers.query<{ bytes: number }>(
    `SELECT avg(octet_length(body))::float8 AS bytes FROM ${outbox.tables.outbox}`,
  );
  await writers.query(`ANALYZE ${outbox.tables.outbox}`);
  const relayPool = pool(4, 'bench-outbox-relay');
  const store = createPostgresOutbox({
    pool: relayPool,
    bus: createBus({ transport: broker.transport, source: SOURCE }),
    table: outbox.tables.outbox,
  }).store;
  // Counts what the relay settled (relay.metrics() sorts its latency window:
  // too costly to poll every few ms without skewing the CPU figure).
  let settled = 0;
  let drained: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    drained = resolve;
  });
  const counting: OutboxStore = {
    claim: (options) => store.claim(options),
    settle: async (claim, request) => {
      const result = await store.settle(claim, request);
      settled += result.published;
      if (settled >= EVENTS) drained();
      return result;
    },
    stats: () => store.stats(),
    listStuck: (limit) => store.listStuck(limit),
    replay: (ids) => store.replay(ids),
    prune: (olderThanMs, limit) => store.prune(olderThanMs, limit),
  };
  const relay = createRelay({ store: counting, transport: broker.transport, batchSize: BATCH });
  const cpu = process.cpuUsage();
  const started = performance.now();
  relay.start();
  await done;
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const { claims } = relay.metrics();
  await relay.stop();
  await relayPool.end();
  const pending = await outbox.store.stats();
  if (pending.pending !== 0)
    throw new Error(`${pending.pending} rows still pending after the drain`);
  await dropOutbox(writers, outbox);
  return {
    events: EVENTS,
    bodyBytes: Math.round(body.rows[0]?.bytes ?? 0),
    fillPerSecond: Math.round(fillPerSecond),
    seconds,
    perSecond: EVENTS / seconds,
    cpuMicrosPerEvent: (used.user + used.system) / EVENTS,
    claims,
  };
}

interface LatencyResult {
  readonly targetRate: number;
  readonly achievedRate: number;
  readonly events: number;
  readonly commitToAckMs: { p50: number; p99: number; max: number };
  readonly relayPublishLatencyMs: { p50: number; p99: number };
  readonly cpuMicrosPerEvent: number;
  readonly claims: number;
}

async function latency(broker: Broker): Promise<LatencyResult> {
  // One event per transaction: many short transactions at once.
  const writers = pool(LATENCY_WRITERS, 'bench-outbox-writer');
  const outbox = await freshOutbox(writers, broker.transport);
  const committedAt = new Map<string, number>();
  const ackedAt = new Map<string, number>();
  // The broker's ack: the relay's publish call resolved (all confirmed).
  const publisher = {
    async publish(messages: readonly OutgoingMessage[]) {
      await broker.transport.publish(messages);
      const now = performance.now();
      for (const message of messages) {
        const id = message.message.headers.ce_id ?? message.message.headers.cloudEvents_id;
        if (id !== undefined && !ackedAt.has(id)) ackedAt.set(id, now);
      }
    },
  };
  const relayPool = pool(4, 'bench-outbox-relay');
  const relay = createRelay({
    store: createPostgresOutbox({
      pool: relayPool,
      bus: createBus({ transport: broker.transport, source: SOURCE }),
      table: outbox.tables.outbox,
    }).store,
    transport: publisher,
    batchSize: BATCH,
    wakeOn: [outbox.commits],
  });
  relay.start();
  await sleep(500);
  const total = RATE * LATENCY_SECONDS;
  const interval = 1000 / RATE;
  const inFlight = new Set<Promise<void>>();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const write = outbox
      .transaction((client) => outbox.add(client, Order, order(i)))
      .then((envelope) => {
        committedAt.set(envelope.id, performance.now());
      });
    inFlight.add(write);
    void write.finally(() => inFlight.delete(write));
    // Bounded: more than the pool can run is the writer falling behind, not load.
    if (inFlight.size >= LATENCY_WRITERS * 4) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const writeSeconds = (performance.now() - started) / 1000;
  const deadline = Date.now() + 60_000;
  while (ackedAt.size < total && Date.now() < deadline) await sleep(20);
  const used = process.cpuUsage(cpu);
  const metrics = relay.metrics();
  await relay.stop();
  await relayPool.end();
  await dropOutbox(writers, outbox);
  await writers.end();
  if (ackedAt.size < total) throw new Error(`only ${ackedAt.size} of ${total} events acked`);
  const latencies = [...committedAt]
    .map(([id, at]) => (ackedAt.get(id) ?? Number.NaN) - at)
    .sort((a, b) => a - b);
  return {
    targetRate: RATE,
    achievedRate: Math.round(total / writeSeconds),
    events: total,
    commitToAckMs: {
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[latencies.length - 1] ?? 0),
    },
    relayPublishLatencyMs: metrics.publishLatencyMs,
    cpuMicrosPerEvent: (used.user + used.system) / total,
    claims: metrics.claims,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number) => Math.round(value * 10) / 10;
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', 'packages'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${sha} (+ uncommitted changes)` : sha;
  } catch {
    return 'unknown';
  }
}

const loadBefore = os.loadavg();
console.log(
  `outbox bench: ${EVENTS.toLocaleString('en')} events of ~1 KB, one relay (batch ${BATCH}); latency at ${RATE}/s for ${LATENCY_SECONDS} s; load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
);
const writers = pool(WRITERS, 'bench-outbox-writer');
const results: Record<
  string,
  { drain: DrainResult; drainRounds: DrainResult[]; latency: LatencyResult }
> = {};
for (const make of [kafkaBroker, rabbitBroker]) {
  const broker = await make();
  if (ONLY && ONLY !== broker.name) {
    await broker.cleanup();
    continue;
  }
  try {
    const rounds: DrainResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const drained = await drain(broker, writers);
      rounds.push(drained);
      console.log(
        `${broker.name.padEnd(8)} drain    ${Math.round(drained.perSecond).toLocaleString('en').padStart(7)} events/s  ${drained.cpuMicrosPerEvent.toFixed(1).padStart(6)} µs CPU/event  (round ${round}: ${drained.events} events, ${drained.bodyBytes} B bodies, ${drained.seconds.toFixed(2)} s, ${drained.claims} claims; filled at ${drained.fillPerSecond}/s; load ${os.loadavg()[0]?.toFixed(2)})`,
      );
    }
    const drained = rounds.reduce((best, row) => (row.perSecond > best.perSecond ? row : best));
    const timed = await latency(broker);
    console.log(
      `${broker.name.padEnd(8)} latency  commit -> broker ack p50 ${timed.commitToAckMs.p50} ms, p99 ${timed.commitToAckMs.p99} ms, max ${timed.commitToAckMs.max} ms at ${timed.achievedRate}/s (${timed.events} events, ${timed.claims} claims, ${timed.cpuMicrosPerEvent.toFixed(1)} µs CPU/event); relay's row creation -> confirm p50 ${timed.relayPublishLatencyMs.p50} ms, p99 ${timed.relayPublishLatencyMs.p99} ms`,
    );
    results[broker.name] = { drain: drained, drainRounds: rounds, latency: timed };
  } finally {
    await broker.cleanup();
  }
}
await writers.end();
const loadAfter = os.loadavg();

const folder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(folder, { recursive: true });
const file = path.join(folder, `outbox-${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      commit: commit(),
      loadBefore,
      loadAfter,
      settings: {
        events: EVENTS,
        rounds: ROUNDS,
        batchSize: BATCH,
        writers: WRITERS,
        latencyWriters: LATENCY_WRITERS,
        rate: RATE,
        latencySeconds: LATENCY_SECONDS,
      },
      targets: { kafkaDrainPerSecond: 10_000, p99Ms: 100 },
      results,
    },
    null,
    2,
  )}\n`,
);
console.log(
  `load after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}; results in ${path.relative(process.cwd(), file)}`,
);
