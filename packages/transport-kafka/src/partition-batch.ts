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
 * The offset a batch may resolve, handed to kafkajs only when it matters: before
 * a heartbeat or a commit, and when the batch ends. kafkajs's resolveOffset
 * parses the offset into a Long and back per call (~0.5 µs); per message that
 * was a measurable share of the consume path. kafkajs commits resolved offsets
 * only when told to (edakit's commits, or its own after a heartbeat fails
 * during a rebalance), so flushing before each of those commits the same.
 */
export class PendingOffset {
  private pending: string | undefined;

  constructor(private readonly resolveOffset: (offset: string) => void) {}

  /** Records `offset` (higher than the last one) as resolvable; cheap, per message. */
  readonly note = (offset: string): void => {
    this.pending = offset;
  };

  /** Hands the highest noted offset to kafkajs, once. */
  flush(): void {
    const offset = this.pending;
    if (offset === undefined) return;
    this.pending = undefined;
    this.resolveOffset(offset);
  }
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
  const { messages } = batch;
  const { semaphore } = dependencies;
  // Per message index: 1 once settled. Offsets resolve up to the first unsettled one.
  const finished = new Uint8Array(messages.length);
  let resolvedUpTo = 0;
  const resolveFinished = () => {
    const before = resolvedUpTo;
    while (resolvedUpTo < messages.length && finished[resolvedUpTo] === 1) resolvedUpTo++;
    // Resolving the highest finished offset covers every one below it.
    if (resolvedUpTo > before) {
      batch.resolveOffset((messages[resolvedUpTo - 1] as KafkaMessage).offset);
    }
  };
  const dispatching = () => !released && !dependencies.stopping() && batch.isRunning();
  const keepGoing = () => dispatching() && !batch.isStale();
  const queue = new KeyedQueue<number>();
  const keys: Array<string | undefined> = new Array(messages.length);
  // Messages being handled, and who waits for one of them to finish (the drain).
  let active = 0;
  let wake: (() => void) | undefined;
  let released = false;
  let failure: unknown;

  const run = async (queueKey: string, index: number): Promise<void> => {
    const message = messages[index] as KafkaMessage;
    let delivery: Delivery = {
      message: {
        key: keys[index],
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
        finished[index] = 1;
        resolveFinished();
        return;
      }
    } catch (error) {
      // Could not produce the retry or dead letter: leave the offset unresolved.
      failure ??= error;
      released = true;
    } finally {
      queue.done(queueKey);
      semaphore.release();
      active--;
      const waiting = wake;
      wake = undefined;
      waiting?.();
    }
  };

  const launch = (queueKey: string, index: number): boolean => {
    if (released) {
      semaphore.release();
      return false;
    }
    active++;
    void run(queueKey, index);
    return true;
  };

  /**
   * Starts every ready message a slot is free for. Synchronous while slots are
   * free (no promise, no microtask per message); a promise when it must wait.
   */
  const startReady = (): Promise<void> | undefined => {
    while (!released) {
      const taken = queue.take();
      if (!taken) return undefined;
      if (!semaphore.tryAcquire()) {
        return semaphore.acquire().then(() => {
          if (launch(taken.key, taken.item)) return startReady();
        });
      }
      if (!launch(taken.key, taken.item)) return undefined;
    }
    return undefined;
  };

  for (let index = 0; index < messages.length; index++) {
    // kafkajs's isStale() (a seek on this partition since the fetch) builds a JSON
    // key per call (~0.4 µs). The transport never seeks its consumers, so it is
    // read when the batch starts and while a due message waits, not per message.
    if (!(index === 0 ? keepGoing() : dispatching())) break;
    const message = messages[index] as KafkaMessage;
    const due = message.headers?.[RETRY_DUE_AT_HEADER];
    if (due !== undefined) {
      const dueAt = Number(due.toString());
      if (dueAt > Date.now() && !(await sleepWhile(dueAt - Date.now(), keepGoing))) break;
    }
    const key = message.key?.toString();
    keys[index] = key;
    queue.push(key, index);
    const waiting = startReady();
    if (waiting) await waiting;
  }
  // Drain: keys blocked behind running messages become ready as those finish.
  for (;;) {
    const waiting = startReady();
    if (waiting) await waiting;
    if (active === 0) {
      // Nothing runs, so nothing is blocked: done, unless a message finished
      // and readied its key's next one while we waited above.
      if (released || queue.size === 0) break;
      continue;
    }
    // Messages never reject; each counts itself out before waking this loop.
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
  if (failure !== undefined) throw failure;
}
