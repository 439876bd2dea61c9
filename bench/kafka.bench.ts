/**
 * edakit on Kafka vs raw kafkajs, in the same run on the same broker:
 * 100k events of ~1 KB. Publish (batched, idempotent, acks=all) and
 * consume+handle throughput, with the client's CPU time per event, and the
 * edakit/raw ratios.
 *
 * Run: `npm run bench:kafka` (builds, starts the broker with scripts/services).
 * Env: BENCH_EVENTS (default 100000), BENCH_ROUNDS (default 2; best round reported).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBus, on } from '@edakit/core';
import { KafkaTransport } from '@edakit/transport-kafka';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { BestRounds, measure, Order, order, type Row } from './bench-kit';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const BROKERS = (process.env.EDAKIT_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const CHUNK = 500; // events per publish call, for both clients
const PARTITIONS = 3;

const kafka = new Kafka({ clientId: 'bench-raw', brokers: BROKERS, logLevel: logLevel.NOTHING });

async function createTopic(topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  await admin.disconnect();
}

/** Raw kafkajs: the same records edakit writes (ce_* headers, JSON value), pre-encoded. */
async function rawPublish(topic: string, messages: Message[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let offset = 0; offset < messages.length; offset += CHUNK) {
    await producer.send({ topic, acks: -1, messages: messages.slice(offset, offset + CHUNK) });
  }
  await producer.disconnect();
}

/**
 * Raw kafkajs as a careful user writes it: JSON-encode each order, key it, set
 * its type header, send in batches. No envelope, no validation.
 */
async function rawPublishEncoding(topic: string, data: ReturnType<typeof order>[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let offset = 0; offset < data.length; offset += CHUNK) {
    const messages = data.slice(offset, offset + CHUNK).map((item) => ({
      key: item.orderId,
      value: JSON.stringify(item),
      headers: { type: 'benchorder.placed' },
    }));
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
}

/** Raw kafkajs as a careful user writes it: headers to strings, JSON.parse, zod safeParse. */
async function rawConsumeValidating(topic: string, count: number): Promise<void> {
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: PARTITIONS,
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {}))
          headers[name] = String(value);
        const parsed = Order.schema.safeParse(JSON.parse(message.value?.toString() ?? 'null'));
        if (!parsed.success || headers.ce_type === undefined) throw new Error('bad event');
        if (++seen === count) resolve();
      },
    });
  });
  await consumer.disconnect();
}

/** Raw kafkajs consumer: parse each value as JSON and count (the least a handler does). */
async function rawConsume(topic: string, count: number): Promise<void> {
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: PARTITIONS,
      eachMessage: async ({ message }) => {
        JSON.parse(message.value?.toString() ?? 'null');
        if (++seen === count) resolve();
      },
    });
  });
  await consumer.disconnect();
}

function transport(prefix: string) {
  return new KafkaTransport({
    client: { clientId: 'bench-edakit', brokers: BROKERS },
    topicPrefix: prefix,
    topics: { partitions: PARTITIONS },
  });
}

async function edakitPublish(prefix: string, data: ReturnType<typeof order>[]): Promise<void> {
  const bus = createBus({ transport: transport(prefix), source: '/bench' });
  for (let offset = 0; offset < data.length; offset += CHUNK) {
    await bus.publishBatch(
      data.slice(offset, offset + CHUNK).map((item) => bus.prepare(Order, item)),
    );
  }
  await bus.stop();
}

async function edakitConsume(prefix: string, count: number): Promise<void> {
  const bus = createBus({ transport: transport(prefix), source: '/bench' });
  let seen = 0;
  const done = new Promise<void>((resolve) => {
    bus.subscribe({
      group: `bench-edakit-${randomUUID()}`,
      startFrom: 'earliest',
      concurrency: 16,
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

async function main(): Promise<void> {
  const data = Array.from({ length: EVENTS }, (_, i) => order(i));
  // Raw records are encoded before timing: the raw client gets its bytes for free.
  const encoder = createBus({ transport: transport('unused.'), source: '/bench' });
  const rawMessages: Message[] = data.map((item) => {
    const { message } = encoder.prepare(Order, item).outgoing;
    return {
      key: message.key ?? null,
      value: Buffer.from(message.body),
      headers: { ...message.headers },
    };
  });
  console.log(
    `kafka bench: ${EVENTS} events of ${rawMessages[0]?.value?.length ?? 0} B body, ${PARTITIONS} partitions, ${ROUNDS} round(s), brokers ${BROKERS.join(',')}`,
  );
  const rounds = new BestRounds();
  const keep = (row: Row) => rounds.keep(row);
  for (let round = 0; round < ROUNDS; round++) {
    const rawTopic = `bench-raw-${randomUUID()}`;
    const prefix = `bench-${randomUUID().slice(0, 8)}.`;
    await createTopic(rawTopic);
    await createTopic(`${prefix}${Order.channel}`);
    const encodingTopic = `bench-raw-json-${randomUUID()}`;
    await createTopic(encodingTopic);
    keep(await measure('publish raw kafkajs', EVENTS, () => rawPublish(rawTopic, rawMessages)));
    keep(
      await measure('publish raw + JSON', EVENTS, () => rawPublishEncoding(encodingTopic, data)),
    );
    keep(await measure('publish edakit', EVENTS, () => edakitPublish(prefix, data)));
    keep(await measure('consume raw kafkajs', EVENTS, () => rawConsume(rawTopic, EVENTS)));
    keep(await measure('consume raw + zod', EVENTS, () => rawConsumeValidating(rawTopic, EVENTS)));
    keep(await measure('consume+handle edakit', EVENTS, () => edakitConsume(prefix, EVENTS)));
  }
  const rows = rounds.table();
  const ratio = (edakit: string, raw: string) => rounds.ratio(edakit, raw);
  const publish = ratio('publish edakit', 'publish raw kafkajs');
  const consume = ratio('consume+handle edakit', 'consume raw kafkajs');
  const publishFair = ratio('publish edakit', 'publish raw + JSON');
  const consumeFair = ratio('consume+handle edakit', 'consume raw + zod');
  const line = (name: string, r: { throughput: number; cpu: number }) =>
    console.log(
      `${name.padEnd(44)} ${r.throughput.toFixed(2)}x throughput, ${r.cpu.toFixed(2)}x CPU per event`,
    );
  console.log('');
  line('publish: edakit / raw (pre-encoded bytes)', publish);
  line('publish: edakit / raw + JSON.stringify', publishFair);
  line('consume: edakit / raw (JSON.parse only)', consume);
  line('consume: edakit / raw + JSON.parse + zod', consumeFair);
  const folder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    path.join(folder, `kafka-${new Date().toISOString().slice(0, 10)}.json`),
    `${JSON.stringify({ date: new Date().toISOString(), events: EVENTS, rows, ratios: { publish, consume, publishFair, consumeFair } }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
