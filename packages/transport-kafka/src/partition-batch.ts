import { type Delivery, KeyedQueue, type SettleOutcome } from '@edakit/core';
import type { KafkaMessage } from 'kafkajs';
import { type Semaphore, sleepWhile } from './concurrency';
import { RETRY_DUE_AT_HEADER, readHeaders } from './kafka-headers';
import type { RetryMode } from './kafka-transport-options';

/** What kafkajs's eachBatch gives us, narrowed to what we use. */
export interface BatchControls {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly KafkaMessage[];
  resolveOffset(offset: string): void;
  isRunning(): boolean;
  isStale(): boolean;
}

export interface BatchDependencies {
  readonly channel: string;
  readonly semaphore: Semaphore;
  readonly retryMode: RetryMode;
  /** Core's handling of one delivery. */
  handle(delivery: Delivery): Promise<SettleOutcome>;
  /** Carries out retry / deadLetter by producing to the retry or DLQ topic (not called for acks). */
  settle(outcome: SettleOutcome, message: KafkaMessage, delivery: Delivery): Promise<void>;
  /** True once the consumer is stopping. */
  stopping(): boolean;
}

/**
 * Handles one fetched batch of a partition: up to the semaphore's slots at
 * once, never two of one key at once, offsets resolved only up to the lowest
 * unfinished one, so a crash or a stop redelivers and never skips.
 * Resolves when every dispatched message is settled or released.
 */
export async function processBatch(
  batch: BatchControls,
  dependencies: BatchDependencies,
): Promise<void> {
  const offsets = batch.messages.map((message) => message.offset);
  const finished = new Set<string>();
  let resolvedUpTo = 0;
  const resolveFinished = () => {
    const before = resolvedUpTo;
    while (resolvedUpTo < offsets.length && finished.has(offsets[resolvedUpTo] as string))
      resolvedUpTo++;
    // Resolving the highest finished offset covers every one below it.
    if (resolvedUpTo > before) batch.resolveOffset(offsets[resolvedUpTo - 1] as string);
  };
  const keepGoing = () =>
    !released && !dependencies.stopping() && batch.isRunning() && !batch.isStale();
  const queue = new KeyedQueue<KafkaMessage>();
  const running = new Set<Promise<void>>();
  let released = false;
  let failure: unknown;

  const run = async (key: string, message: KafkaMessage): Promise<void> => {
    let delivery: Delivery = {
      message: {
        key: message.key?.toString('utf8'),
        headers: readHeaders(message.headers),
        body: message.value ?? new Uint8Array(),
      },
      channel: dependencies.channel,
      origin: batch.topic,
    };
    try {
      for (;;) {
        const outcome = await dependencies.handle(delivery);
        if (outcome.type === 'release') {
          released = true;
          return;
        }
        if (outcome.type === 'retry' && dependencies.retryMode === 'blocking') {
          // Retry in place: this key waits, other keys go on; the offset stays unresolved.
          if (!(await sleepWhile(outcome.delayMs, keepGoing))) {
            released = true;
            return;
          }
          delivery = { ...delivery, message: { ...delivery.message, headers: outcome.headers } };
          continue;
        }
        if (outcome.type !== 'ack') await dependencies.settle(outcome, message, delivery);
        finished.add(message.offset);
        resolveFinished();
        return;
      }
    } catch (error) {
      // Could not produce the retry or dead letter: leave the offset unresolved.
      failure ??= error;
      released = true;
    } finally {
      queue.done(key);
      dependencies.semaphore.release();
    }
  };

  const start = async (): Promise<boolean> => {
    const taken = queue.take();
    if (!taken) return false;
    await dependencies.semaphore.acquire();
    if (released) {
      dependencies.semaphore.release();
      return false;
    }
    const task = run(taken.key, taken.item);
    running.add(task);
    void task.finally(() => running.delete(task));
    return true;
  };

  for (const message of batch.messages) {
    if (!keepGoing()) break;
    const dueAt = Number(message.headers?.[RETRY_DUE_AT_HEADER]?.toString() ?? 0);
    if (dueAt > Date.now() && !(await sleepWhile(dueAt - Date.now(), keepGoing))) break;
    queue.push(message.key?.toString('utf8'), message);
    while (await start());
  }
  // Drain: keys blocked behind running messages become ready as those finish.
  for (;;) {
    if (!released) while (await start());
    if (running.size === 0) break;
    // Tasks never reject; each removes itself from `running` before this wakes.
    await Promise.race(running);
  }
  if (failure !== undefined) throw failure;
}
