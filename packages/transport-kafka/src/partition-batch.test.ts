import type { Delivery, SettleOutcome } from '@edakit/core';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { Semaphore } from './concurrency';
import { RETRY_DUE_AT_HEADER } from './kafka-headers';
import { type BatchDependencies, PendingOffset, processBatch } from './partition-batch';

function message(offset: number, key: string, headers: Record<string, string> = {}): KafkaMessage {
  return {
    offset: String(offset),
    key: Buffer.from(key),
    value: Buffer.from(JSON.stringify({ offset })),
    headers,
    timestamp: '0',
    attributes: 0,
  } as KafkaMessage;
}

function batchOf(messages: KafkaMessage[]) {
  const resolved: string[] = [];
  return {
    resolved,
    controls: {
      topic: 'orders',
      partition: 0,
      messages,
      resolveOffset: (offset: string) => void resolved.push(offset),
      isRunning: () => true,
      isStale: () => false,
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const offsetOf = (delivery: Delivery) =>
  (JSON.parse(Buffer.from(delivery.message.body).toString()) as { offset: number }).offset;

function dependencies(overrides: Partial<BatchDependencies>): BatchDependencies {
  return {
    channel: 'order',
    semaphore: new Semaphore(4),
    retryMode: 'non-blocking',
    handle: async () => ({ type: 'ack' }),
    settle: async () => {},
    stopping: () => false,
    ...overrides,
  };
}

describe('processBatch', () => {
  it('runs keys in parallel, one message per key at a time, in offset order per key', async () => {
    const messages = [0, 1, 2, 3, 4, 5, 6, 7].map((offset) =>
      message(offset, offset % 2 === 0 ? 'a' : 'b'),
    );
    const { controls, resolved } = batchOf(messages);
    const perKey: Record<string, number[]> = { a: [], b: [] };
    const running: Record<string, number> = { a: 0, b: 0 };
    let peak = 0;
    let overlapWithinKey = false;
    await processBatch(
      controls,
      dependencies({
        handle: async (delivery) => {
          const key = delivery.message.key as string;
          running[key] = (running[key] ?? 0) + 1;
          if ((running[key] ?? 0) > 1) overlapWithinKey = true;
          peak = Math.max(peak, (running.a ?? 0) + (running.b ?? 0));
          await sleep(offsetOf(delivery) < 2 ? 20 : 1); // the first of each key is slow
          perKey[key]?.push(offsetOf(delivery));
          running[key] = (running[key] ?? 0) - 1;
          return { type: 'ack' };
        },
      }),
    );
    expect(overlapWithinKey).toBe(false);
    expect(peak).toBe(2);
    expect(perKey).toEqual({ a: [0, 2, 4, 6], b: [1, 3, 5, 7] });
    // kafkajs offsets are cumulative: each call resolves everything below it.
    expect(resolved.map(Number)).toEqual([...resolved.map(Number)].sort((a, b) => a - b));
    expect(resolved.at(-1)).toBe('7');
  });

  it('resolves offsets only up to the lowest unfinished one', async () => {
    const { controls, resolved } = batchOf([
      message(10, 'slow'),
      message(11, 'fast'),
      message(12, 'fast2'),
    ]);
    const seenWhileSlowRuns: string[][] = [];
    await processBatch(
      controls,
      dependencies({
        handle: async (delivery) => {
          if (delivery.message.key === 'slow') {
            await sleep(30);
            seenWhileSlowRuns.push([...resolved]);
          }
          return { type: 'ack' };
        },
      }),
    );
    expect(seenWhileSlowRuns).toEqual([[]]); // 11 and 12 finished first, yet nothing was resolved
    expect(resolved).toEqual(['12']); // then one call covers 10, 11 and 12
  });

  it('leaves released messages and everything after them unresolved (stop)', async () => {
    const { controls, resolved } = batchOf([message(0, 'a'), message(1, 'b'), message(2, 'c')]);
    let stopping = false;
    await processBatch(
      controls,
      dependencies({
        semaphore: new Semaphore(1),
        stopping: () => stopping,
        handle: async (delivery): Promise<SettleOutcome> => {
          if (offsetOf(delivery) === 1) {
            stopping = true;
            return { type: 'release' };
          }
          return { type: 'ack' };
        },
      }),
    );
    expect(resolved).toEqual(['0']);
  });

  it('settles retry and dead-letter outcomes before resolving their offsets', async () => {
    const settled: string[] = [];
    const { controls, resolved } = batchOf([message(0, 'a'), message(1, 'b')]);
    await processBatch(
      controls,
      dependencies({
        handle: async (delivery) =>
          offsetOf(delivery) === 0
            ? { type: 'retry', delayMs: 100, headers: { h: '1' } }
            : { type: 'deadLetter', headers: { h: '2' } },
        settle: async (outcome, kafkaMessage) => {
          // A message's offset is resolved only after the broker took its retry/DLQ copy.
          expect(resolved).not.toContain(kafkaMessage.offset);
          settled.push(outcome.type);
        },
      }),
    );
    expect(settled.sort()).toEqual(['deadLetter', 'retry']);
    expect(resolved.at(-1)).toBe('1');
  });

  it('throws, leaving the offset unresolved, when the retry or DLQ copy cannot be produced', async () => {
    const { controls, resolved } = batchOf([message(0, 'a'), message(1, 'b')]);
    const broken = new Error('DLQ topic unavailable');
    await expect(
      processBatch(
        controls,
        dependencies({
          semaphore: new Semaphore(1),
          handle: async () => ({ type: 'deadLetter', headers: {} }),
          settle: async () => {
            throw broken;
          },
        }),
      ),
    ).rejects.toBe(broken);
    expect(resolved).toEqual([]);
  });

  it('retries in place in blocking mode, holding back only that key', async () => {
    const order: string[] = [];
    let failures = 0;
    const { controls, resolved } = batchOf([message(0, 'a'), message(1, 'a'), message(2, 'b')]);
    await processBatch(
      controls,
      dependencies({
        retryMode: 'blocking',
        handle: async (delivery) => {
          const offset = offsetOf(delivery);
          if (offset === 0 && failures < 2) {
            failures++;
            order.push(`fail-${offset}-attempt-header-${delivery.message.headers.h ?? 'none'}`);
            return { type: 'retry', delayMs: 20, headers: { h: String(failures) } };
          }
          order.push(`ok-${offset}`);
          return { type: 'ack' };
        },
        settle: async (outcome) => {
          throw new Error(`blocking mode must not produce a ${outcome.type}`);
        },
      }),
    );
    expect(order).toEqual([
      'fail-0-attempt-header-none',
      'ok-2',
      'fail-0-attempt-header-1',
      'ok-0',
      'ok-1',
    ]);
    expect(resolved.at(-1)).toBe('2');
  });

  it('waits until a retried message is due', async () => {
    const due = Date.now() + 150;
    const { controls } = batchOf([message(0, 'a', { [RETRY_DUE_AT_HEADER]: String(due) })]);
    let handledAt = 0;
    await processBatch(
      controls,
      dependencies({
        handle: async () => {
          handledAt = Date.now();
          return { type: 'ack' };
        },
      }),
    );
    expect(handledAt).toBeGreaterThanOrEqual(due);
  });

  it('stops waiting for a due message when the consumer stops', async () => {
    let stopping = false;
    setTimeout(() => (stopping = true), 50);
    const { controls, resolved } = batchOf([
      message(0, 'a', { [RETRY_DUE_AT_HEADER]: String(Date.now() + 60_000) }),
    ]);
    const started = Date.now();
    await processBatch(controls, dependencies({ stopping: () => stopping }));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(resolved).toEqual([]);
  });
});

describe('PendingOffset', () => {
  it('hands kafkajs only the highest noted offset, once per flush', () => {
    const resolved: string[] = [];
    const offsets = new PendingOffset((offset) => void resolved.push(offset));
    offsets.flush();
    expect(resolved).toEqual([]);
    offsets.note('3');
    offsets.note('4');
    offsets.note('7');
    expect(resolved).toEqual([]);
    offsets.flush();
    offsets.flush();
    expect(resolved).toEqual(['7']);
    offsets.note('9');
    offsets.flush();
    expect(resolved).toEqual(['7', '9']);
  });
});
