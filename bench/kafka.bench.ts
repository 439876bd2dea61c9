/**
 * edakit on Kafka vs raw kafkajs, in the same run on the same broker:
 * 100k events of ~1 KB. Publish (batched, idempotent, acks=all) and
 * consume+handle throughput, with the client's CPU time per event, and
 * edakit's ratios against every raw baseline:
 *
 * - publish raw kafkajs: the records edakit writes, pre-encoded before the clock starts;
 * - publish raw + stringify: the same keys and headers, the value JSON.stringify'd per
 *   order in the loop: the floor of any client that serializes its events;
 * - publish raw + JSON: JSON.stringify per order, one type header, no envelope, no validation;
 * - publish raw + CE + zod: what edakit does per event, by hand: the same CloudEvents
 *   headers (randomUUID id, toISOString time), zod safeParse, JSON.stringify;
 * - consume raw kafkajs: JSON.parse of the value, nothing else;
 * - consume raw + zod: header Buffers to strings, JSON.parse, zod safeParse;
 * - consume raw + CE + zod: the same plus the required CloudEvents attributes
 *   checked and an event object handed to a handler (what edakit does per event).
 *
 * Then the same pair in CloudEvents structured mode (`contentMode: 'structured'`:
 * one JSON document and one header per record): publish raw kafkajs (structured
 * records), pre-encoded by edakit, vs publish edakit structured; consume raw
 * kafkajs (structured) vs consume+handle edakit structured. Their records are
 * built before those rows and dropped after, so the rows above run with the
 * same heap as before.
 *
 * Every row's topics are created before its clock starts (edakit's through
 * `ensureTopics`, with the group's retry topics); client connects, group joins
 * and the first metadata requests are timed for every row alike.
 *
 * Run: `npm run bench:kafka` (builds, starts the broker with scripts/services).
 * Env: BENCH_EVENTS (default 100000), BENCH_ROUNDS (default 2; the round with the
 * lowest CPU/event is reported), BENCH_ONLY (comma-separated row-name prefixes, e.g.
 * `publish edakit,consume+handle`; the topics the consume rows read are still filled).
 */
import { randomUUID } from 'node:crypto';
import { type ContentMode, createBus, on } from '@edakit/core';
import { KafkaTransport } from '@edakit/transport-kafka';
import { Kafka, logLevel, type Message } from 'kafkajs';
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
const BROKERS = (process.env.EDAKIT_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const CHUNK = 500; // events per publish call, for every client
const PARTITIONS = 3;
const SOURCE = '/bench';

const PUBLISH_BASELINES = [
  'publish raw kafkajs',
  'publish raw + stringify',
  'publish raw + JSON',
  'publish raw + CE + zod',
];
const CONSUME_BASELINES = ['consume raw kafkajs', 'consume raw + zod', 'consume raw + CE + zod'];
const STRUCTURED_PUBLISH_BASELINES = ['publish raw kafkajs (structured)', 'publish raw kafkajs'];
const STRUCTURED_CONSUME_BASELINES = ['consume raw kafkajs (structured)', 'consume raw kafkajs'];

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

/** The raw producer loop every raw publish row shares: `records(offset)` gives each chunk. */
async function rawPublish(
  topic: string,
  count: number,
  records: (offset: number, end: number) => Message[],
): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let offset = 0; offset < count; offset += CHUNK) {
    const messages = records(offset, Math.min(offset + CHUNK, count));
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
}

/** The raw consumer loop every raw consume row shares: `handle` is its per-event work. */
async function rawConsume(
  topic: string,
  count: number,
  handle: (message: { value: Buffer | null; headers?: Record<string, unknown> }) => void,
): Promise<void> {
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: PARTITIONS,
      eachMessage: async ({ message }) => {
        handle(message);
        if (++seen === count) resolve();
      },
    });
  });
  await consumer.disconnect();
}

function transport(prefix: string, contentMode: ContentMode = 'binary') {
  return new KafkaTransport({
    client: { clientId: 'bench-edakit', brokers: BROKERS },
    topicPrefix: prefix,
    topics: { partitions: PARTITIONS },
    contentMode,
  });
}

/** What the raw client sends: edakit's records, encoded before the clock starts. */
function preEncoded(data: readonly OrderData[], contentMode: ContentMode): Message[] {
  const encoder = createBus({ transport: transport('unused.', contentMode), source: SOURCE });
  return data.map((item) => {
    const { message } = encoder.prepare(Order, item).outgoing;
    return {
      key: message.key ?? null,
      value: Buffer.from(message.body),
      headers: { ...message.headers },
    };
  });
}

async function edakitPublish(
  prefix: string,
  data: OrderData[],
  contentMode: ContentMode = 'binary',
): Promise<void> {
  const bus = createBus({ transport: transport(prefix, contentMode), source: SOURCE });
  for (let offset = 0; offset < data.length; offset += CHUNK) {
    await bus.publishBatch(
      data.slice(offset, offset + CHUNK).map((item) => bus.prepare(Order, item)),
    );
  }
  await bus.stop();
}

/**
 * Creates edakit's topics of a round before the clock starts, as the raw rows'
 * topics are: the channel's main and DLQ topics and the group's retry topics.
 * Otherwise the edakit rows would time one-off topic creation (each a
 * CreateTopics round trip with waitForLeaders, ~0.1-0.3 s) that no raw row pays.
 */
async function provisionEdakit(prefix: string, group: string): Promise<void> {
  const provisioner = transport(prefix);
  await provisioner.ensureTopics([Order.channel], [group]);
  await provisioner.close();
}

async function edakitConsume(prefix: string, group: string, count: number): Promise<void> {
  const bus = createBus({ transport: transport(prefix), source: SOURCE });
  let seen = 0;
  const done = new Promise<void>((resolve) => {
    bus.subscribe({
      group,
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

type Timed = (scenario: string, work: () => Promise<void>, needed?: boolean) => Promise<void>;

/** One round of the structured-mode rows, on their own topics and records. */
async function structuredRows(
  data: OrderData[],
  timed: Timed,
  selected: (scenario: string) => boolean,
): Promise<void> {
  const rawTopic = `bench-raw-structured-${randomUUID()}`;
  const prefix = `bench-${randomUUID().slice(0, 8)}-s.`;
  const group = `bench-edakit-structured-${randomUUID()}`;
  const wanted = [
    'publish raw kafkajs (structured)',
    'publish edakit structured',
    'consume raw kafkajs (structured)',
    'consume+handle edakit structured',
  ].some(selected);
  if (!wanted) return;
  await createTopic(rawTopic);
  await provisionEdakit(prefix, group);
  // Encoded only when the raw row runs (timed, or to fill the topic its consume row reads).
  const rawRuns = ['publish raw kafkajs (structured)', 'consume raw kafkajs (structured)'].some(
    selected,
  );
  const records = rawRuns ? preEncoded(data, 'structured') : [];
  await timed(
    'publish raw kafkajs (structured)',
    () => rawPublish(rawTopic, EVENTS, (offset, end) => records.slice(offset, end)),
    selected('consume raw kafkajs (structured)'),
  );
  records.length = 0;
  await timed(
    'publish edakit structured',
    () => edakitPublish(prefix, data, 'structured'),
    selected('consume+handle edakit structured'),
  );
  await timed('consume raw kafkajs (structured)', () =>
    rawConsume(rawTopic, EVENTS, (message) => {
      JSON.parse(message.value?.toString() ?? 'null');
    }),
  );
  await timed('consume+handle edakit structured', () => edakitConsume(prefix, group, EVENTS));
}

async function main(): Promise<void> {
  const data = Array.from({ length: EVENTS }, (_, i) => order(i));
  // Pre-encoded records: the raw client gets edakit's bytes for free.
  const rawMessages = preEncoded(data, 'binary');
  const ceHeaders = ceHeaderBuilder({ prefix: 'ce_', contentType: 'content-type' }, SOURCE);
  const decodeCe = ceDecoder('ce_');
  // The hand-built records must carry exactly the headers edakit writes.
  const edakitNames = Object.keys(rawMessages[0]?.headers ?? {}).join(',');
  const handNames = Object.keys(ceHeaders('k')).join(',');
  if (edakitNames !== handNames) {
    throw new Error(`raw + CE headers differ from edakit's: ${handNames} vs ${edakitNames}`);
  }
  const loadBefore = loadAverage();
  console.log(
    `kafka bench: ${EVENTS} events of ${rawMessages[0]?.value?.length ?? 0} B body + ${
      Object.keys(rawMessages[0]?.headers ?? {}).length
    } headers, ${PARTITIONS} partitions, ${ROUNDS} round(s), brokers ${BROKERS.join(',')}, load ${formatLoad(loadBefore)}`,
  );
  const selected = selectedRows();
  const rounds = new BestRounds();
  const keep = (row: Row) => rounds.keep(row);
  // A row that is not selected still runs when a selected consume row reads its topic.
  const timed: Timed = async (scenario, work, needed = false) => {
    if (selected(scenario)) keep(await measure(scenario, EVENTS, work));
    else if (needed) await work();
  };
  let handled: RawCeEvent | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    const rawTopic = `bench-raw-${randomUUID()}`;
    const stringifyTopic = `bench-raw-stringify-${randomUUID()}`;
    const jsonTopic = `bench-raw-json-${randomUUID()}`;
    const ceTopic = `bench-raw-ce-${randomUUID()}`;
    const prefix = `bench-${randomUUID().slice(0, 8)}.`;
    const edakitGroup = `bench-edakit-${randomUUID()}`;
    for (const topic of [rawTopic, stringifyTopic, jsonTopic, ceTopic]) {
      await createTopic(topic);
    }
    await provisionEdakit(prefix, edakitGroup);
    const consumesRaw = ['consume raw kafkajs', 'consume raw + zod'].some(selected);
    await timed(
      'publish raw kafkajs',
      () => rawPublish(rawTopic, EVENTS, (offset, end) => rawMessages.slice(offset, end)),
      consumesRaw,
    );
    await timed('publish raw + stringify', () =>
      rawPublish(stringifyTopic, EVENTS, (offset, end) =>
        data.slice(offset, end).map((item, i) => {
          const record = rawMessages[offset + i] as Message;
          return { key: record.key, value: JSON.stringify(item), headers: record.headers };
        }),
      ),
    );
    await timed('publish raw + JSON', () =>
      rawPublish(jsonTopic, EVENTS, (offset, end) =>
        data.slice(offset, end).map((item) => ({
          key: item.orderId,
          value: JSON.stringify(item),
          headers: { type: Order.type },
        })),
      ),
    );
    await timed(
      'publish raw + CE + zod',
      () =>
        rawPublish(ceTopic, EVENTS, (offset, end) =>
          data.slice(offset, end).map((item) => ({
            key: item.orderId,
            value: encodeValidated(item),
            headers: ceHeaders(item.orderId),
          })),
        ),
      selected('consume raw + CE + zod'),
    );
    await timed(
      'publish edakit',
      () => edakitPublish(prefix, data),
      selected('consume+handle edakit'),
    );
    await timed('consume raw kafkajs', () =>
      rawConsume(rawTopic, EVENTS, (message) => {
        JSON.parse(message.value?.toString() ?? 'null');
      }),
    );
    await timed('consume raw + zod', () =>
      rawConsume(rawTopic, EVENTS, (message) => {
        const headers = headerStrings(message.headers);
        const parsed = Order.schema.safeParse(JSON.parse(message.value?.toString() ?? 'null'));
        if (!parsed.success || headers.ce_type === undefined) throw new Error('bad event');
      }),
    );
    await timed('consume raw + CE + zod', () =>
      rawConsume(ceTopic, EVENTS, (message) => {
        // The "handler": keeps the last event, like edakit's counts them.
        handled = decodeCe(headerStrings(message.headers), message.value ?? Buffer.alloc(0));
      }),
    );
    await timed('consume+handle edakit', () => edakitConsume(prefix, edakitGroup, EVENTS));
    await structuredRows(data, timed, selected);
  }
  if (handled !== undefined && handled.type !== Order.type) throw new Error('lost the handler');
  const loadAfter = loadAverage();
  const rows = rounds.table();
  console.log(`\nload before ${formatLoad(loadBefore)}, after ${formatLoad(loadAfter)}\n`);
  const publish = rounds.ratios('publish edakit', PUBLISH_BASELINES);
  const consume = rounds.ratios('consume+handle edakit', CONSUME_BASELINES);
  const structuredPublish = rounds.ratios(
    'publish edakit structured',
    STRUCTURED_PUBLISH_BASELINES,
  );
  const structuredConsume = rounds.ratios(
    'consume+handle edakit structured',
    STRUCTURED_CONSUME_BASELINES,
  );
  writeResults('kafka', {
    events: EVENTS,
    rounds: ROUNDS,
    load: { before: loadBefore, after: loadAfter },
    rows,
    ratios: { publish, consume, structuredPublish, structuredConsume },
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
