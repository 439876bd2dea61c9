/**
 * Completed three-step sagas per second (the order saga: reserve inventory,
 * charge payment, create shipment, then confirm), with instant participants in
 * the same process:
 * - Redis store over the memory transport (the target: >= 2,000/s),
 * - memory store over the memory transport (the engine alone),
 * - Redis store over Kafka.
 * Each saga is 8 events (start, 3 commands, 3 replies, the confirmation).
 *
 * Run: `npm run bench:saga` (builds, starts Redis and Kafka).
 * Env: BENCH_SAGAS (default 5000), BENCH_KAFKA_SAGAS (default 2000), BENCH_ROUNDS (default 2),
 * BENCH_ONLY (run only the rows whose name contains it, e.g. `Redis store, memory`).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bus, createBus, InMemoryTransport, type Transport } from '@edakit/core';
import { failFastRedisOptions } from '@edakit/outbox/redis';
import {
  createSagaRuntime,
  isDispatchingStore,
  MemorySagaStore,
  type SagaDefinition,
  type SagaInstance,
  type SagaStore,
} from '@edakit/saga';
import { RedisSagaStore } from '@edakit/saga/redis';
import { KafkaTransport } from '@edakit/transport-kafka';
import { Redis } from 'ioredis';
import {
  OrderCreated,
  orderSaga,
  subscribeParticipants,
} from '../packages/saga/test/support/order-saga';
import { BestRounds, measure } from './bench-kit';

const SAGAS = Number(process.env.BENCH_SAGAS ?? 5000);
const KAFKA_SAGAS = Number(process.env.BENCH_KAFKA_SAGAS ?? 2000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const ONLY = process.env.BENCH_ONLY ?? '';
const BROKERS = (process.env.EDAKIT_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
// Timeouts far away: the bench measures the happy path, not compensation.
const saga = orderSaga({ stepTimeoutMs: 600_000, shippingTimeoutMs: 600_000 });

async function redisClient(): Promise<Redis> {
  const client = new Redis({
    host: '127.0.0.1',
    port: 6379,
    lazyConnect: true,
    ...failFastRedisOptions,
  });
  await client.connect();
  return client;
}

async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(
      cursor,
      'MATCH',
      `${prefix.replace(/[[\]*?]/g, '\\$&')}*`,
      'COUNT',
      1000,
    );
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Starts `count` sagas and resolves when every one completed. */
async function runSagas(
  bus: Bus,
  transport: Transport,
  store: SagaStore,
  count: number,
): Promise<void> {
  const runtime = createSagaRuntime({
    bus,
    transport,
    store,
    // The saga is defined with the package's sources (test support), the
    // runtime comes from its build: two declarations of one class.
    sagas: [saga as unknown as SagaDefinition<unknown>],
    // Fresh topics each run: a group joining after the first events were
    // published must still read them (Kafka's 'latest' could skip them).
    startFrom: 'earliest',
  });
  subscribeParticipants(bus, 'earliest');
  let completed = 0;
  const done = new Promise<void>((resolve) => {
    const note = (instance: SagaInstance) => {
      if (instance.status === 'completed' && ++completed === count) resolve();
    };
    // Count completions where they happen, instead of polling the store.
    const update = store.update.bind(store);
    store.update = async (instance, sends) => {
      const written = await update(instance, sends);
      if (written) note(instance);
      return written;
    };
    if (isDispatchingStore(store)) {
      const doWrite = store.doWrite.bind(store);
      store.doWrite = async (mode, instance, sends) => {
        const written = await doWrite(mode, instance, sends);
        if (written !== false) note(instance);
        return written;
      };
    }
  });
  await runtime.start();
  await bus.start();
  for (let i = 0; i < count; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, count - i) }, (_, j) =>
        bus.publish(OrderCreated, {
          orderId: `o-${i + j}`,
          items: [{ sku: 's', quantity: 1 }],
          total: 10,
        }),
      ),
    );
  }
  await done;
  await bus.stop();
  await runtime.stop();
}

async function memoryStoreOverMemory(): Promise<void> {
  const transport = new InMemoryTransport();
  await runSagas(
    createBus({ transport, source: '/bench' }),
    transport,
    new MemorySagaStore(),
    SAGAS,
  );
}

async function redisStoreOver(transport: Transport, count: number): Promise<void> {
  const client = await redisClient();
  const prefix = `edakit-bench:saga:{${randomUUID().slice(0, 8)}}:`;
  try {
    const store = await RedisSagaStore.open({ client, prefix });
    await runSagas(createBus({ transport, source: '/bench' }), transport, store, count);
  } finally {
    await deletePrefix(client, prefix);
    client.disconnect();
  }
}

function kafkaTransport(): KafkaTransport {
  return new KafkaTransport({
    client: { clientId: 'bench-saga', brokers: BROKERS },
    topicPrefix: `bench-saga-${randomUUID().slice(0, 8)}.`,
    topics: { partitions: 3 },
    maxWaitTimeMs: 50,
  });
}

async function main(): Promise<void> {
  console.log(
    `saga bench: ${SAGAS} sagas (memory transport), ${KAFKA_SAGAS} (Kafka), ${ROUNDS} round(s)`,
  );
  const rounds = new BestRounds();
  const run = async (name: string, count: number, work: () => Promise<void>) => {
    if (name.includes(ONLY)) rounds.keep(await measure(name, count, work));
  };
  for (let round = 0; round < ROUNDS; round++) {
    await run('memory store, memory transport', SAGAS, memoryStoreOverMemory);
    await run('Redis store, memory transport', SAGAS, () =>
      redisStoreOver(new InMemoryTransport(), SAGAS),
    );
    await run('Redis store, Kafka', KAFKA_SAGAS, () =>
      redisStoreOver(kafkaTransport(), KAFKA_SAGAS),
    );
  }
  console.log('\n(events = completed sagas; CPU µs per saga, 8 events each)');
  const rows = rounds.table();
  const folder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    path.join(folder, `saga-${new Date().toISOString().slice(0, 10)}.json`),
    `${JSON.stringify({ date: new Date().toISOString(), sagas: SAGAS, kafkaSagas: KAFKA_SAGAS, rows }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
