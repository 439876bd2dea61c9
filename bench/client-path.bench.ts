/**
 * The client's own per-event work, without a broker: what edakit adds on the
 * publish and consume paths, measured steadily (a broker on the same 2 cores
 * moves the broker benches' rows by 30-50%; these rows move by ~10-20%).
 *
 * - prepare: `bus.prepare` in chunks of 500, the last BENCH_IN_FLIGHT chunks
 *   kept alive, as batches awaiting their acknowledgement are;
 * - hand CE + zod encode: the hand-written equivalent (bench-kit), kept alive alike;
 * - kafka consume path: kafkajs-shaped messages (Buffer headers, key, value)
 *   through the Kafka transport's `processBatch`, core's delivery and one
 *   handler, at concurrency 16, in batches of 500;
 * - hand CE + zod decode: header Buffers to strings, the CloudEvents check,
 *   JSON.parse, zod, one event object;
 * - JSON.parse only: what the raw consume rows do.
 *
 * Rows run interleaved, their order rotating each round; each reports the
 * median and lowest CPU µs per event (`process.cpuUsage`, all threads, so GC
 * helper threads count). Then the heap one prepared event keeps alive, next
 * to the hand-written record.
 *
 * Run: `npm run bench:client-path` (builds; needs no service).
 * Env: BENCH_EVENTS (default 100000), BENCH_ROUNDS (default 5),
 * BENCH_IN_FLIGHT (chunks of 500 kept alive on the encode rows, default 4).
 */
import { createBus, on, type Transport, type TransportSubscription } from '@edakit/core';
import type { KafkaMessage } from 'kafkajs';
import { Semaphore } from '../packages/transport-kafka/src/concurrency';
import { processBatch } from '../packages/transport-kafka/src/partition-batch';
import {
  ceDecoder,
  ceHeaderBuilder,
  encodeValidated,
  headerStrings,
  Order,
  type OrderData,
  order,
} from './bench-kit';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);
const CHUNK = 500;
const SOURCE = '/bench';

/** A transport that only hands the subscription back: core's delivery path without a broker. */
function capturingTransport(): { transport: Transport; subscription: () => TransportSubscription } {
  let captured: TransportSubscription | undefined;
  const transport: Transport = {
    name: 'client-path',
    connect: async () => {},
    publish: async () => {},
    close: async () => {},
    health: async () => ({ status: 'up', details: {} }),
    subscribe: async (subscription) => {
      captured = subscription;
      return { stop: async () => {} };
    },
  };
  return {
    transport,
    subscription: () => {
      if (!captured) throw new Error('the bus did not subscribe');
      return captured;
    },
  };
}

/** Runs `make` per event in chunks of 500, keeping the last IN_FLIGHT chunks alive. */
function inChunks(make: (item: OrderData) => unknown, data: readonly OrderData[]): void {
  const alive: unknown[][] = [];
  for (let offset = 0; offset < data.length; offset += CHUNK) {
    const chunk: unknown[] = [];
    const end = Math.min(offset + CHUNK, data.length);
    for (let i = offset; i < end; i++) chunk.push(make(data[i] as OrderData));
    alive.push(chunk);
    if (alive.length > IN_FLIGHT) alive.shift();
  }
}

async function main(): Promise<void> {
  const data = Array.from({ length: EVENTS }, (_, i) => order(i));
  const { transport, subscription } = capturingTransport();
  const bus = createBus({ transport, source: SOURCE });
  const ceHeaders = ceHeaderBuilder({ prefix: 'ce_', contentType: 'content-type' }, SOURCE);
  const decodeCe = ceDecoder('ce_');

  // kafkajs-shaped records of what edakit writes: header values, key and value as Buffers.
  const messages: KafkaMessage[] = data.map((item, i) => {
    const { message } = bus.prepare(Order, item).outgoing;
    const headers: Record<string, Buffer> = {};
    for (const name in message.headers)
      headers[name] = Buffer.from(message.headers[name] as string);
    return {
      key: Buffer.from(message.key ?? ''),
      value: Buffer.from(message.body),
      headers,
      offset: String(i),
      timestamp: '0',
      attributes: 0,
    } as KafkaMessage;
  });

  let handled = 0;
  bus.subscribe({
    group: 'client-path',
    concurrency: 16,
    handlers: [
      on(Order, () => {
        handled++;
      }),
    ],
  });
  await bus.start();
  const handle = subscription().handle;
  const semaphore = new Semaphore(16);
  let last: unknown;

  const rows: Record<string, () => Promise<void> | void> = {
    prepare: () => inChunks((item) => bus.prepare(Order, item), data),
    'hand CE + zod encode': () =>
      inChunks(
        (item) => ({
          key: item.orderId,
          value: encodeValidated(item),
          headers: ceHeaders(item.orderId),
        }),
        data,
      ),
    'kafka consume path': async () => {
      for (let offset = 0; offset < messages.length; offset += CHUNK) {
        await processBatch(
          {
            topic: Order.channel,
            partition: 0,
            messages: messages.slice(offset, offset + CHUNK),
            resolveOffset: () => {},
            isRunning: () => true,
            isStale: () => false,
          },
          {
            channel: Order.channel,
            semaphore,
            retryMode: 'non-blocking',
            handle,
            settle: async () => {},
            stopping: () => false,
          },
        );
      }
    },
    'hand CE + zod decode': () => {
      for (const message of messages) {
        last = decodeCe(headerStrings(message.headers), message.value as Buffer);
      }
    },
    'JSON.parse only': () => {
      for (const message of messages) last = JSON.parse((message.value as Buffer).toString());
    },
  };

  const names = Object.keys(rows);
  const cpu = new Map<string, number[]>(names.map((name) => [name, []]));
  console.log(
    `client path: ${EVENTS} events, ${ROUNDS} rounds, ${IN_FLIGHT} chunks of ${CHUNK} in flight on the encode rows`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    const rotated = [...names.slice(round % names.length), ...names.slice(0, round % names.length)];
    for (const name of rotated) {
      const before = process.cpuUsage();
      await rows[name]?.();
      const used = process.cpuUsage(before);
      cpu.get(name)?.push((used.user + used.system) / EVENTS);
    }
  }
  const handledPerRound = handled / ROUNDS;
  if (handledPerRound !== EVENTS || last === undefined) {
    throw new Error(`the consume path handled ${handledPerRound} events per round, not ${EVENTS}`);
  }
  console.log(`\n${'row'.padEnd(24)} median µs   lowest µs   (CPU per event)`);
  for (const [name, values] of cpu) {
    const sorted = [...values].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
    console.log(
      `${name.padEnd(24)} ${median.toFixed(2).padStart(9)} ${(sorted[0] ?? Number.NaN).toFixed(2).padStart(11)}`,
    );
  }
  reportRetained(bus, ceHeaders, data);
  await bus.stop();
}

/** Heap bytes one prepared event keeps alive, next to the hand-written record (needs --expose-gc). */
function reportRetained(
  bus: ReturnType<typeof createBus>,
  ceHeaders: (key: string) => Record<string, string>,
  data: readonly OrderData[],
): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    console.log('\n(run node with --expose-gc for the heap kept per event)');
    return;
  }
  const sample = data.slice(0, 20_000);
  const retained = (make: (item: OrderData) => unknown): number => {
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept = sample.map(make);
    gc();
    gc();
    const bytes = (process.memoryUsage().heapUsed - before) / kept.length;
    return kept.length > 0 ? bytes : 0;
  };
  const prepared = retained((item) => bus.prepare(Order, item));
  const hand = retained((item) => ({
    key: item.orderId,
    value: encodeValidated(item),
    headers: ceHeaders(item.orderId),
  }));
  console.log(
    `\nheap kept alive per event: prepared event ${prepared.toFixed(0)} B, hand-written record ${hand.toFixed(0)} B (Buffer contents are outside the heap)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
