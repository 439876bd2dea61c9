import { type Bus, createBus, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { namespace, rawAdmin, rawKafka, startHealthy, stopAll } from '../support/integration';
import { testTransport } from '../support/kafka-factory';

const buses: Bus[] = [];
const kafka = rawKafka();
afterEach(() => stopAll(buses));

interface Call {
  readonly key: string;
  readonly seq: number;
  readonly attempt: number;
  readonly ok: boolean;
  readonly at: number;
}

/**
 * retryMode 'blocking': a failing event is retried in place (no retry topic),
 * the later events of its key wait for it, and other keys of the same
 * partition go on meanwhile.
 *
 * All events here arrive in one fetch. Events of other keys that arrive in a
 * LATER fetch do wait: kafkajs fetches again only once every batch of the
 * previous fetch is done, and a batch is done only when its blocked event is
 * (see the report / kafka-transport-options.ts retryMode).
 */
it('retries in place, holding up only the failing key', async () => {
  const ns = namespace('block');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const calls: Call[] = [];
  const bus = createBus({
    // One partition: both keys share it, so "not held up" is about keys, not partitions.
    transport: testTransport({ retryMode: 'blocking', topics: { partitions: 1 } }),
    source: '/it/blocking',
    retry: { immediate: 0, delayed: [400, 400, 400] },
  });
  buses.push(bus);
  bus.subscribe({
    group,
    startFrom: 'earliest',
    concurrency: 4,
    handlers: [
      on(contract, async (event, context) => {
        const { key, seq } = event.data;
        const failing = key === 'a' && seq === 0 && context.attempt < 3;
        calls.push({ key, seq, attempt: context.attempt, ok: !failing, at: Date.now() });
        if (failing) throw new Error(`a-0 fails on attempt ${context.attempt}`);
      }),
    ],
  });

  // a0 (fails twice), then a1, a2 and b0..b9 interleaved, all on one partition.
  const events = [bus.prepare(contract, { key: 'a', seq: 0 })];
  for (let seq = 0; seq < 10; seq++) {
    events.push(bus.prepare(contract, { key: 'b', seq }));
    if (seq < 2) events.push(bus.prepare(contract, { key: 'a', seq: seq + 1 }));
  }
  await bus.publishBatch(events);
  await startHealthy(bus);

  await waitFor(() => calls.filter((c) => c.ok).length === 13, {
    timeoutMs: 30_000,
    description: '13 successful handler calls',
  });
  const ok = (key: string) => calls.filter((c) => c.key === key && c.ok);
  const a0 = calls.filter((c) => c.key === 'a' && c.seq === 0);

  // Retried in place: attempts 1, 2 fail, 3 succeeds, spaced by the delay.
  expect(a0.map((c) => [c.attempt, c.ok])).toEqual([
    [1, false],
    [2, false],
    [3, true],
  ]);
  expect((a0[1]?.at ?? 0) - (a0[0]?.at ?? 0)).toBeGreaterThanOrEqual(350);
  expect((a0[2]?.at ?? 0) - (a0[1]?.at ?? 0)).toBeGreaterThanOrEqual(350);
  // Key a keeps its order: a1, a2 only after a0 succeeded.
  expect(ok('a').map((c) => c.seq)).toEqual([0, 1, 2]);
  const a0Done = a0[2]?.at ?? 0;
  for (const later of ok('a').slice(1)) expect(later.at).toBeGreaterThanOrEqual(a0Done);
  // Key b is not held up: all of it is done before a0's first retry.
  expect(ok('b').map((c) => c.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const b of ok('b')) expect(b.at).toBeLessThan(a0[1]?.at ?? 0);
  // Each event handled successfully once.
  expect(calls.filter((c) => c.ok)).toHaveLength(13);

  // In place means no retry topic and nothing produced again to the main topic.
  const admin = await rawAdmin(kafka);
  try {
    const topics = await admin.listTopics();
    expect(topics.filter((topic) => topic.startsWith(`${contract.channel}.retry.`))).toEqual([]);
    const offsets = await admin.fetchTopicOffsets(contract.channel);
    expect(offsets.map((o) => Number(o.high))).toEqual([13]);
    // The offsets are committed once the blocked event is done.
    await waitFor(
      async () => {
        const [committed] = await admin.fetchOffsets({
          groupId: group,
          topics: [contract.channel],
        });
        return committed?.partitions[0]?.offset === '13';
      },
      { timeoutMs: 10_000, description: 'offset 13 committed' },
    );
  } finally {
    await admin.disconnect();
  }
});
