import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBus, on } from '@edakit/core';
import { waitFor } from '@edakit/core/testing';
import { KafkaTransport } from '@edakit/transport-kafka';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisSagaStore } from '../../src/redis';
import {
  OrderCancelled,
  OrderConfirmed,
  OrderCreated,
  ReleaseInventory,
  subscribeParticipants,
} from '../support/order-saga';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis';

const here = dirname(fileURLToPath(import.meta.url));
const BROKERS = process.env.EDAKIT_KAFKA_BROKERS ?? '127.0.0.1:9092';
const SAGAS = 1000;
const children: ChildProcess[] = [];
let redis: Redis | undefined;

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  redis?.disconnect();
});

function startSagaProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, '../fixtures/saga-process.ts')],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      if (String(chunk).includes('ready')) resolve(child);
    });
    child.once('exit', (code) =>
      reject(new Error(`saga process exited (${code}) before ready: ${stderr}`)),
    );
  });
}

describe('saga process killed mid-run (Kafka + Redis store)', () => {
  it('brings all 1,000 sagas to one final state after a SIGKILL and a restart', async () => {
    redis = await connectRedis();
    const prefix = `saga-kill-${randomUUID().slice(0, 8)}.`;
    const sagaPrefix = uniquePrefix('kill');
    const env = { KAFKA_BROKERS: BROKERS, TOPIC_PREFIX: prefix, SAGA_PREFIX: sagaPrefix };
    const transport = new KafkaTransport({
      client: { clientId: 'saga-kill-test', brokers: BROKERS.split(',') },
      topicPrefix: prefix,
      topics: { partitions: 3, replicationFactor: 1 },
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      maxWaitTimeMs: 100,
    });
    const bus = createBus({ transport, source: '/saga-kill-test' });
    const participants = subscribeParticipants(bus);
    for (let i = 0; i < SAGAS; i += 10) participants.failPayment.add(`o-${i}`);
    // Every final event and every release, by order: ids tell a re-publish
    // (same id, allowed) from a second transition (another id: a defect).
    const finals = new Map<string, Set<string>>();
    const releases = new Map<string, Set<string>>();
    const note = (map: Map<string, Set<string>>, orderId: string, id: string) =>
      map.set(orderId, (map.get(orderId) ?? new Set()).add(id));
    bus.subscribe({
      group: 'saga-kill-observer',
      startFrom: 'earliest',
      handlers: [
        on(OrderConfirmed, (event) => note(finals, event.data.orderId, event.id)),
        on(OrderCancelled, (event) => note(finals, event.data.orderId, event.id)),
        on(ReleaseInventory, (event) => note(releases, event.data.orderId, event.id), {
          name: 'observer/release',
        }),
      ],
    });
    await transport.ensureTopics(['order', 'inventory', 'payment', 'shipping']);
    await bus.start();
    const store = await RedisSagaStore.open({ client: redis, prefix: sagaPrefix });
    try {
      const first = await startSagaProcess(env);
      for (let i = 0; i < SAGAS; i += 100) {
        await Promise.all(
          Array.from({ length: 100 }, (_, j) =>
            bus.publish(OrderCreated, {
              orderId: `o-${i + j}`,
              items: [{ sku: 's', quantity: 1 }],
              total: 10,
            }),
          ),
        );
      }
      const finished = async () =>
        (await store.find({ saga: 'order', status: 'completed', limit: 5000 })).length +
        (await store.find({ saga: 'order', status: 'compensated', limit: 5000 })).length;
      await waitFor(async () => (await finished()) >= 250, { timeoutMs: 60_000, intervalMs: 50 });
      first.kill('SIGKILL');
      const atKill = await finished();
      await startSagaProcess(env);
      await waitFor(async () => (await finished()) === SAGAS, {
        timeoutMs: 120_000,
        intervalMs: 200,
      }).catch(async (error: unknown) => {
        // Name the sagas that did not finish: absent (a lost start event) or still running.
        const unfinished: string[] = [];
        for (let i = 0; i < SAGAS; i++) {
          const saga = await store.load('order', `o-${i}`);
          if (saga?.status !== 'completed' && saga?.status !== 'compensated') {
            unfinished.push(`o-${i}: ${saga === undefined ? 'absent' : `step ${saga.step}`}`);
          }
        }
        throw new Error(
          `${unfinished.length} sagas unfinished: ${unfinished.slice(0, 20).join(', ')}`,
          {
            cause: error,
          },
        );
      });
      await waitFor(() => finals.size === SAGAS, { timeoutMs: 60_000, intervalMs: 100 });
      const running = await store.find({ saga: 'order', status: 'running', limit: 10 });
      expect(running).toEqual([]);
      const twice = [...finals].filter(([, ids]) => ids.size !== 1);
      expect(twice).toEqual([]);
      const cancelled = [...finals.keys()].filter((id) => participants.failPayment.has(id));
      expect(cancelled).toHaveLength(SAGAS / 10);
      for (const orderId of participants.failPayment) {
        expect((await store.load('order', orderId))?.status).toBe('compensated');
        expect(releases.get(orderId)?.size).toBe(1);
      }
      const confirmed = await store.find({ saga: 'order', status: 'completed', limit: 5000 });
      expect(confirmed).toHaveLength(SAGAS - SAGAS / 10);
      console.log(
        `[figure] ${atKill} of ${SAGAS} sagas were final at the kill; all ${SAGAS} final after the restart, each with one final event`,
      );
    } finally {
      await bus.stop();
      await deleteKeys(redis, sagaPrefix);
    }
  }, 240_000);
});
