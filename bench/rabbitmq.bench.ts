/**
 * edakit on RabbitMQ vs raw amqplib, in the same run on the same broker:
 * 100k events of ~1 KB to a quorum queue. Publish (confirm channel,
 * persistent, pipelined in chunks of 500, at most 1000 unconfirmed) and
 * consume+handle (manual ack, same prefetch) throughput, with the client's CPU
 * time per event, and edakit's ratios against every raw baseline:
 *
 * - publish raw amqplib: the messages edakit writes, pre-encoded before the clock starts;
 * - publish raw + stringify: the same properties and headers, the body JSON.stringify'd
 *   per order in the loop: the floor of any client that serializes its events;
 * - publish raw + CE + zod: what edakit does per event, by hand: the same cloudEvents_
 *   headers and properties (randomUUID id, toISOString time), zod safeParse, JSON.stringify;
 * - consume raw amqplib: JSON.parse of the body and an ack;
 * - consume raw + CE + zod: header values as strings, the required CloudEvents
 *   attributes checked, JSON.parse, zod safeParse, an event object to a handler, an ack.
 *
 * Run: `npm run build && scripts/services/up rabbitmq && node --import tsx bench/rabbitmq.bench.ts`.
 * Env: BENCH_EVENTS (default 100000), BENCH_ROUNDS (default 2; the round with the lowest
 * CPU/event is reported), BENCH_ONLY (comma-separated row-name prefixes; the queues the
 * consume rows read are still filled), EDAKIT_RABBITMQ_URL (default amqp://guest:guest@127.0.0.1:5672).
 */
import { randomUUID } from 'node:crypto';
import { createBus, type OutgoingMessage, on } from '@edakit/core';
import { RabbitMqTransport } from '@edakit/transport-rabbitmq';
import { type ConfirmChannel, type ConsumeMessage, connect, type Options } from 'amqplib';
import {
  BestRounds,
  ceDecoder,
  ceHeaderBuilder,
  encodeValidated,
  formatLoad,
  headerStrings,
  loadAverage,
  measure,
  Order,
  type OrderData,
  order,
  type RawCeEvent,
  type Row,
  selectedRows,
  writeResults,
} from './bench-kit';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const URL = process.env.EDAKIT_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const CHUNK = 500; // events per publish call, for both clients
const MAX_IN_FLIGHT = 1_000; // unconfirmed messages, for both clients
const CONCURRENCY = 64; // edakit's handler concurrency = its prefetch = raw prefetch
const SOURCE = '/bench';

const PUBLISH_BASELINES = [
  'publish raw amqplib',
  'publish raw + stringify',
  'publish raw + CE + zod',
];
const CONSUME_BASELINES = ['consume raw amqplib', 'consume raw + CE + zod'];

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
 * Raw amqplib publisher, shared by the raw publish rows: `messages(offset, end)`
 * gives each chunk; one confirm channel, a callback per message, chunks
 * awaited like publishBatch, `drain` honoured.
 */
async function rawPublish(
  exchange: string,
  count: number,
  messages: (offset: number, end: number) => RawMessage[],
): Promise<void> {
  const connection = await connect(URL);
  const channel: ConfirmChannel = await connection.createConfirmChannel();
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let draining: Promise<void> | undefined;
  for (let offset = 0; offset < count; offset += CHUNK) {
    const chunk = messages(offset, Math.min(offset + CHUNK, count));
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

/** Raw amqplib consumer, shared by the raw consume rows: `handle` is its per-event work, then an ack. */
async function rawConsume(
  queue: string,
  count: number,
  handle: (message: ConsumeMessage) => void,
): Promise<void> {
  const connection = await connect(URL);
  const channel = await connection.createChannel();
  await channel.prefetch(CONCURRENCY);
  let seen = 0;
  await new Promise<void>((resolve) => {
    void channel.consume(queue, (message) => {
      if (!message) return;
      handle(message);
      channel.ack(message);
      if (++seen === count) resolve();
    });
  });
  await connection.close();
}

function transport(exchange: string): RabbitMqTransport {
  return new RabbitMqTransport({ url: URL, exchange, maxInFlight: MAX_IN_FLIGHT });
}

async function edakitPublish(exchange: string, data: OrderData[]): Promise<void> {
  const bus = createBus({ transport: transport(exchange), source: SOURCE });
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
  const bus = createBus({ transport: transport(exchange), source: SOURCE });
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
  const bus = createBus({ transport: transport(exchange), source: SOURCE });
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
  // Pre-encoded messages: the raw client gets edakit's bytes for free.
  const encoder = createBus({ transport: transport('unused'), source: SOURCE });
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
  // The AMQP binding: cloudEvents_ headers, content type as the contentType property.
  const ceHeaders = ceHeaderBuilder({ prefix: 'cloudEvents_' }, SOURCE);
  const decodeCe = ceDecoder('cloudEvents_');
  const ceMessage = (item: OrderData): RawMessage => {
    const headers = ceHeaders(item.orderId);
    return {
      routingKey: Order.type,
      content: encodeValidated(item),
      properties: {
        persistent: true,
        messageId: headers.cloudEvents_id,
        type: Order.type,
        contentType: 'application/json',
        timestamp: Math.floor(Date.now() / 1000),
        headers,
      },
    };
  };
  // The hand-built messages must carry exactly the headers edakit writes.
  const edakitNames = Object.keys(rawMessages[0]?.properties.headers ?? {}).join(',');
  const handNames = Object.keys(ceHeaders('k')).join(',');
  if (edakitNames !== handNames) {
    throw new Error(`raw + CE headers differ from edakit's: ${handNames} vs ${edakitNames}`);
  }
  const loadBefore = loadAverage();
  console.log(
    `rabbitmq bench: ${EVENTS} events of ${rawMessages[0]?.content.length ?? 0} B body, quorum queues, prefetch/concurrency ${CONCURRENCY}, ${ROUNDS} round(s), load ${formatLoad(loadBefore)}`,
  );
  const selected = selectedRows();
  const rounds = new BestRounds();
  const keep = (row: Row) => rounds.keep(row);
  // A row that is not selected still runs when a selected consume row reads its queue.
  const timed = async (scenario: string, work: () => Promise<void>, needed = false) => {
    if (selected(scenario)) keep(await measure(scenario, EVENTS, work));
    else if (needed) await work();
  };
  let handled: RawCeEvent | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    const id = randomUUID().slice(0, 8);
    const rawExchange = `bench-raw-${id}`;
    const rawQueue = `bench-raw-${id}`;
    const stringifyExchange = `bench-raw-stringify-${id}`;
    const stringifyQueue = `bench-raw-stringify-${id}`;
    const ceExchange = `bench-raw-ce-${id}`;
    const ceQueue = `bench-raw-ce-${id}`;
    const exchange = `bench-edakit-${id}`;
    const group = `bench-edakit-${id}`;
    await rawTopology(rawExchange, rawQueue);
    await rawTopology(stringifyExchange, stringifyQueue);
    await rawTopology(ceExchange, ceQueue);
    await edakitTopology(exchange, group);
    await edakitTopology(`${exchange}.alone`, `${group}.alone`);
    try {
      await timed(
        'publish raw amqplib',
        () => rawPublish(rawExchange, EVENTS, (offset, end) => rawMessages.slice(offset, end)),
        selected('consume raw amqplib'),
      );
      await timed('publish raw + stringify', () =>
        rawPublish(stringifyExchange, EVENTS, (offset, end) =>
          data.slice(offset, end).map((item, i) => {
            const { routingKey, properties } = rawMessages[offset + i] as RawMessage;
            return { routingKey, content: Buffer.from(JSON.stringify(item)), properties };
          }),
        ),
      );
      await timed(
        'publish raw + CE + zod',
        () =>
          rawPublish(ceExchange, EVENTS, (offset, end) => data.slice(offset, end).map(ceMessage)),
        selected('consume raw + CE + zod'),
      );
      await timed(
        'publish edakit',
        () => edakitPublish(exchange, data),
        selected('consume+handle edakit'),
      );
      await timed('publish transport only', () => transportPublish(`${exchange}.alone`, outgoing));
      await timed('consume raw amqplib', () =>
        rawConsume(rawQueue, EVENTS, (message) => {
          JSON.parse(message.content.toString());
        }),
      );
      await timed('consume raw + CE + zod', () =>
        rawConsume(ceQueue, EVENTS, (message) => {
          const headers = headerStrings(message.properties.headers);
          // The "handler": keeps the last event, like edakit's counts them.
          handled = decodeCe(headers, message.content);
        }),
      );
      await timed('consume+handle edakit', () => edakitConsume(exchange, group, EVENTS));
    } finally {
      const queuesOf = (name: string) => [
        name,
        `${name}.dlq`,
        ...[1_000, 10_000, 60_000, 600_000].map((tier) => `${name}.retry.${tier}ms`),
      ];
      await cleanUp(
        [
          rawExchange,
          stringifyExchange,
          ceExchange,
          exchange,
          `${exchange}.unroutable`,
          `${exchange}.alone`,
          `${exchange}.alone.unroutable`,
        ],
        [
          rawQueue,
          stringifyQueue,
          ceQueue,
          ...queuesOf(group),
          ...queuesOf(`${group}.alone`),
          `${exchange}.unroutable`,
          `${exchange}.alone.unroutable`,
        ],
      );
    }
  }
  if (handled !== undefined && handled.type !== Order.type) throw new Error('lost the handler');
  const loadAfter = loadAverage();
  const rows = rounds.table();
  console.log(`\nload before ${formatLoad(loadBefore)}, after ${formatLoad(loadAfter)}\n`);
  const publish = rounds.ratios('publish edakit', PUBLISH_BASELINES);
  const transportOnly = rounds.ratios('publish transport only', ['publish raw amqplib']);
  console.log('  (transport only: pre-encoded events, as an outbox relay publishes)');
  const consume = rounds.ratios('consume+handle edakit', CONSUME_BASELINES);
  writeResults('rabbitmq', {
    events: EVENTS,
    rounds: ROUNDS,
    load: { before: loadBefore, after: loadAfter },
    rows,
    ratios: { publish, transportOnly, consume },
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
