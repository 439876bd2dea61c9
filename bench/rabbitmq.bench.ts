/**
 * edakit on RabbitMQ vs raw amqplib, in the same run on the same broker:
 * 100k events of ~1 KB to a quorum queue. Publish (confirm channel,
 * persistent, pipelined in chunks of 500, at most 1000 unconfirmed) and
 * consume+handle (manual ack, same prefetch) throughput, with the client's CPU
 * time per event, and the edakit/raw ratios.
 *
 * Run: `npm run build && scripts/services/up rabbitmq && node --import tsx bench/rabbitmq.bench.ts`.
 * Env: BENCH_EVENTS (default 100000), BENCH_ROUNDS (default 2; best round reported),
 * EDAKIT_RABBITMQ_URL (default amqp://guest:guest@127.0.0.1:5672).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBus, type OutgoingMessage, on } from '@edakit/core';
import { RabbitMqTransport } from '@edakit/transport-rabbitmq';
import { type ConfirmChannel, connect, type Options } from 'amqplib';
import { BestRounds, measure, Order, order, type Row } from './bench-kit';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const URL = process.env.EDAKIT_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const CHUNK = 500; // events per publish call, for both clients
const MAX_IN_FLIGHT = 1_000; // unconfirmed messages, for both clients
const CONCURRENCY = 64; // edakit's handler concurrency = its prefetch = raw prefetch

interface RawMessage {
  readonly routingKey: string;
  readonly content: Buffer;
  readonly properties: Options.Publish;
}

const QUORUM = { 'x-queue-type': 'quorum' };

/** Raw amqplib: a topic exchange and a quorum queue bound to the event type. */
async function rawTopology(exchange: string, queue: string): Promise<void> {
  const connection = await connect(URL);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  await channel.assertQueue(queue, { durable: true, arguments: QUORUM });
  await channel.bindQueue(queue, exchange, Order.type);
  await connection.close();
}

/**
 * Raw amqplib publisher: the same messages edakit writes (cloudEvents_ headers,
 * properties, JSON body), pre-encoded; one confirm channel, a callback per
 * message, chunks awaited like publishBatch, `drain` honoured.
 */
async function rawPublish(exchange: string, messages: RawMessage[]): Promise<void> {
  const connection = await connect(URL);
  const channel: ConfirmChannel = await connection.createConfirmChannel();
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let draining: Promise<void> | undefined;
  for (let offset = 0; offset < messages.length; offset += CHUNK) {
    const chunk = messages.slice(offset, offset + CHUNK);
    const confirms: Promise<void>[] = [];
    for (const message of chunk) {
      while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => (wake = resolve));
      if (draining) await draining;
      inFlight++;
      confirms.push(
        new Promise<void>((resolve, reject) => {
          const writable = channel.publish(
            exchange,
            message.routingKey,
            message.content,
            message.properties,
            (error: unknown) => {
              inFlight--;
              wake?.();
              wake = undefined;
              if (error) reject(error);
              else resolve();
            },
          );
          if (!writable && !draining) {
            draining = new Promise<void>((done) =>
              channel.once('drain', () => {
                draining = undefined;
                done();
              }),
            );
          }
        }),
      );
    }
    await Promise.all(confirms);
  }
  await connection.close();
}

/** Raw amqplib consumer: parse each body as JSON and ack it (the least a handler does). */
async function rawConsume(queue: string, count: number): Promise<void> {
  const connection = await connect(URL);
  const channel = await connection.createChannel();
  await channel.prefetch(CONCURRENCY);
  let seen = 0;
  await new Promise<void>((resolve) => {
    void channel.consume(queue, (message) => {
      if (!message) return;
      JSON.parse(message.content.toString());
      channel.ack(message);
      if (++seen === count) resolve();
    });
  });
  await connection.close();
}

function transport(exchange: string): RabbitMqTransport {
  return new RabbitMqTransport({ url: URL, exchange, maxInFlight: MAX_IN_FLIGHT });
}

async function edakitPublish(exchange: string, data: ReturnType<typeof order>[]): Promise<void> {
  const bus = createBus({ transport: transport(exchange), source: '/bench' });
  for (let offset = 0; offset < data.length; offset += CHUNK) {
    await bus.publishBatch(
      data.slice(offset, offset + CHUNK).map((item) => bus.prepare(Order, item)),
    );
  }
  await bus.stop();
}

/**
 * The transport alone, given the same pre-encoded events the raw client gets
 * (what an outbox relay does): separates the transport's cost from core's
 * validate + encode.
 */
async function transportPublish(exchange: string, messages: OutgoingMessage[]): Promise<void> {
  const alone = transport(exchange);
  await alone.connect();
  for (let offset = 0; offset < messages.length; offset += CHUNK) {
    await alone.publish(messages.slice(offset, offset + CHUNK));
  }
  await alone.close();
}

async function edakitConsume(exchange: string, group: string, count: number): Promise<void> {
  const bus = createBus({ transport: transport(exchange), source: '/bench' });
  let seen = 0;
  const done = new Promise<void>((resolve) => {
    bus.subscribe({
      group,
      concurrency: CONCURRENCY,
      handlers: [
        on(Order, () => {
          if (++seen === count) resolve();
        }),
      ],
    });
  });
  await bus.start();
  await done;
  await bus.stop();
}

/** The group's queues exist before anything is published to them. */
async function edakitTopology(exchange: string, group: string): Promise<void> {
  const bus = createBus({ transport: transport(exchange), source: '/bench' });
  bus.subscribe({ group, handlers: [on(Order, () => undefined)] });
  await bus.start();
  await bus.stop();
}

async function cleanUp(exchanges: string[], queues: string[]): Promise<void> {
  const connection = await connect(URL);
  const channel = await connection.createChannel();
  for (const queue of queues) await channel.deleteQueue(queue);
  for (const exchange of exchanges) await channel.deleteExchange(exchange);
  await connection.close();
}

async function main(): Promise<void> {
  const data = Array.from({ length: EVENTS }, (_, i) => order(i));
  // Raw messages are encoded before timing: the raw client gets its bytes for free.
  const encoder = createBus({ transport: transport('unused'), source: '/bench' });
  const prepared = data.map((item) => encoder.prepare(Order, item));
  const outgoing = prepared.map((event) => event.outgoing);
  const rawMessages: RawMessage[] = prepared.map(({ envelope, outgoing }) => {
    const { 'content-type': contentType, ...headers } = outgoing.message.headers;
    return {
      routingKey: outgoing.type,
      content: Buffer.from(outgoing.message.body),
      properties: {
        persistent: true,
        messageId: envelope.id,
        type: envelope.type,
        contentType,
        timestamp: Math.floor(Date.now() / 1000),
        headers,
      },
    };
  });
  console.log(
    `rabbitmq bench: ${EVENTS} events of ${rawMessages[0]?.content.length ?? 0} B body, quorum queues, prefetch/concurrency ${CONCURRENCY}, ${ROUNDS} round(s)`,
  );
  const rounds = new BestRounds();
  const keep = (row: Row) => rounds.keep(row);
  for (let round = 0; round < ROUNDS; round++) {
    const id = randomUUID().slice(0, 8);
    const rawExchange = `bench-raw-${id}`;
    const rawQueue = `bench-raw-${id}`;
    const exchange = `bench-edakit-${id}`;
    const group = `bench-edakit-${id}`;
    await rawTopology(rawExchange, rawQueue);
    await edakitTopology(exchange, group);
    await edakitTopology(`${exchange}.alone`, `${group}.alone`);
    try {
      keep(
        await measure('publish raw amqplib', EVENTS, () => rawPublish(rawExchange, rawMessages)),
      );
      keep(await measure('publish edakit', EVENTS, () => edakitPublish(exchange, data)));
      keep(
        await measure('publish transport only', EVENTS, () =>
          transportPublish(`${exchange}.alone`, outgoing),
        ),
      );
      keep(await measure('consume raw amqplib', EVENTS, () => rawConsume(rawQueue, EVENTS)));
      keep(
        await measure('consume+handle edakit', EVENTS, () =>
          edakitConsume(exchange, group, EVENTS),
        ),
      );
    } finally {
      const queuesOf = (name: string) => [
        name,
        `${name}.dlq`,
        ...[1_000, 10_000, 60_000, 600_000].map((tier) => `${name}.retry.${tier}ms`),
      ];
      await cleanUp(
        [
          rawExchange,
          exchange,
          `${exchange}.unroutable`,
          `${exchange}.alone`,
          `${exchange}.alone.unroutable`,
        ],
        [
          rawQueue,
          ...queuesOf(group),
          ...queuesOf(`${group}.alone`),
          `${exchange}.unroutable`,
          `${exchange}.alone.unroutable`,
        ],
      );
    }
  }
  const rows = rounds.table();
  const ratio = (edakit: string, raw: string) => rounds.ratio(edakit, raw);
  const publish = ratio('publish edakit', 'publish raw amqplib');
  const transportOnly = ratio('publish transport only', 'publish raw amqplib');
  const consume = ratio('consume+handle edakit', 'consume raw amqplib');
  console.log(
    `\nedakit / raw: publish ${publish.throughput.toFixed(2)}x throughput, ${publish.cpu.toFixed(2)}x CPU per event`,
  );
  console.log(
    `transport / raw: publish ${transportOnly.throughput.toFixed(2)}x throughput, ${transportOnly.cpu.toFixed(2)}x CPU per event (pre-encoded events, as an outbox relay publishes)`,
  );
  console.log(
    `edakit / raw: consume ${consume.throughput.toFixed(2)}x throughput, ${consume.cpu.toFixed(2)}x CPU per event`,
  );
  const folder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    path.join(folder, `rabbitmq-${new Date().toISOString().slice(0, 10)}.json`),
    `${JSON.stringify({ date: new Date().toISOString(), events: EVENTS, rows, ratios: { publish, transportOnly, consume } }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
