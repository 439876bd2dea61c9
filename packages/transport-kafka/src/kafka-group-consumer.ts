import type {
  Delivery,
  Logger,
  SettleOutcome,
  TransportConsumer,
  TransportSubscription,
} from '@edakit/core';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { Semaphore } from './concurrency';
import { RETRY_DUE_AT_HEADER } from './kafka-headers';
import type { KafkaPublisher } from './kafka-publisher';
import type { RetryMode } from './kafka-transport-options';
import { retryWhileMetadataLags } from './metadata-lag';
import { PendingOffset, processBatch } from './partition-batch';
import { type TopicNames, tierFor } from './topic-names';

export interface GroupConsumerOptions {
  readonly subscription: TransportSubscription;
  readonly names: TopicNames;
  readonly publisher: KafkaPublisher;
  readonly retryTiersMs: readonly number[];
  readonly retryMode: RetryMode;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxWaitTimeMs: number;
  readonly restartBackoffMs: number;
  readonly logger: Logger;
}

/** What health reports of one consumer group. */
export interface GroupConsumerState {
  readonly group: string;
  readonly running: boolean;
  readonly crashes: number;
  readonly lastError?: string | undefined;
  readonly topics: readonly string[];
}

/**
 * One consumer group of the transport. kafkajs does not restart a consumer after
 * a non-retriable crash: this class does, with backoff, and says so in logs and
 * health.
 */
export class KafkaGroupConsumer implements TransportConsumer {
  private consumer: Consumer | undefined;
  private stopping = false;
  private running = false;
  private crashes = 0;
  private lastError: string | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly semaphore: Semaphore;
  readonly topics: readonly string[];

  constructor(
    private readonly kafka: Kafka,
    private readonly options: GroupConsumerOptions,
  ) {
    const { subscription, names } = options;
    this.semaphore = new Semaphore(subscription.concurrency);
    this.topics = subscription.channels.flatMap((channel) => [
      names.main(channel),
      ...(options.retryMode === 'non-blocking'
        ? options.retryTiersMs.map((tier) => names.retry(channel, subscription.group, tier))
        : []),
    ]);
  }

  get state(): GroupConsumerState {
    return {
      group: this.options.subscription.group,
      running: this.running,
      crashes: this.crashes,
      lastError: this.lastError,
      topics: this.topics,
    };
  }

  async start(): Promise<void> {
    const { subscription } = this.options;
    const consumer = this.kafka.consumer({
      groupId: subscription.group,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: this.options.heartbeatIntervalMs,
      maxWaitTimeInMs: this.options.maxWaitTimeMs,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.crashes++;
      this.lastError = error.message;
      this.running = false;
      this.options.logger.error(
        { group: subscription.group, error: error.message, restart },
        restart
          ? 'kafka consumer crashed; kafkajs restarts it'
          : 'kafka consumer crashed; edakit restarts it',
      );
      if (!restart) this.scheduleRestart(consumer);
    });
    // Running means "joined and consuming": not before the first join, not while rebalancing.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.running = true;
    });
    consumer.on(consumer.events.REBALANCING, () => {
      this.running = false;
    });
    try {
      await consumer.connect();
      // The topics were just created through another broker, perhaps: wait until this one knows.
      await retryWhileMetadataLags(
        () =>
          consumer.subscribe({
            topics: [...this.topics],
            fromBeginning: subscription.startFrom === 'earliest',
          }),
        { keepGoing: () => !this.stopping },
      );
      // Stopped while subscribing: run() would reconnect a consumer stop() already disconnected.
      if (this.stopping) {
        await consumer.disconnect();
        return;
      }
      await consumer.run({
        partitionsConsumedConcurrently: Math.max(1, Math.min(subscription.concurrency, 64)),
        eachBatchAutoResolve: false,
        eachBatch: (payload) => this.eachBatch(payload),
      });
    } catch (error) {
      // Nothing else would close a consumer that never started: it must not keep its sockets.
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    // disconnect() waits for the running batches; core resolves their handlers by the
    // stop deadline, and every finished offset is committed at the end of its batch.
    await this.consumer?.disconnect();
    this.running = false;
  }

  private scheduleRestart(crashed: Consumer): void {
    if (this.stopping) return;
    const delay = Math.min(
      30_000,
      this.options.restartBackoffMs * 2 ** Math.min(this.crashes - 1, 10),
    );
    this.restartTimer = setTimeout(async () => {
      if (this.stopping) return;
      await crashed.disconnect().catch(() => undefined);
      try {
        await this.start();
        this.options.logger.info(
          { group: this.options.subscription.group },
          'kafka consumer restarted',
        );
      } catch (error) {
        this.lastError = (error as Error).message;
        this.crashes++;
        this.scheduleRestart(this.consumer ?? crashed);
      }
    }, delay);
    this.restartTimer.unref();
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    // Finished offsets reach kafkajs before each heartbeat and commit, not per message.
    const offsets = new PendingOffset(payload.resolveOffset);
    // Heartbeat during long batches, and commit what finished so far: a crash
    // mid-batch then redoes only the unfinished part.
    const heartbeat = setInterval(() => {
      offsets.flush();
      payload.heartbeat().catch(() => undefined);
      payload.commitOffsetsIfNecessary(payload.uncommittedOffsets()).catch(() => undefined);
    }, this.options.heartbeatIntervalMs);
    try {
      await processBatch(
        {
          topic: batch.topic,
          partition: batch.partition,
          messages: batch.messages,
          resolveOffset: offsets.note,
          isRunning: payload.isRunning,
          isStale: payload.isStale,
        },
        {
          channel: this.options.names.channelOf(batch.topic),
          semaphore: this.semaphore,
          retryMode: this.options.retryMode,
          handle: (delivery) => this.options.subscription.handle(delivery),
          settle: (outcome, message, delivery) => this.settle(outcome, message, delivery),
          stopping: () => this.stopping,
        },
      );
    } finally {
      clearInterval(heartbeat);
      offsets.flush();
      // Commit what finished now, not at the next auto-commit tick: a crash
      // after this point redelivers nothing that was done.
      await payload
        .commitOffsetsIfNecessary(payload.uncommittedOffsets())
        .catch((error: unknown) => {
          this.options.logger.warn(
            { group: this.options.subscription.group, error: (error as Error).message },
            'offset commit failed; the batch will be redelivered',
          );
        });
    }
  }

  private async settle(
    outcome: SettleOutcome,
    message: KafkaMessage,
    delivery: Delivery,
  ): Promise<void> {
    const { names, publisher, subscription } = this.options;
    const value = message.value ?? Buffer.alloc(0);
    const key = message.key ?? null;
    if (outcome.type === 'retry') {
      const tier = tierFor(outcome.delayMs, this.options.retryTiersMs);
      const headers = {
        ...outcome.headers,
        [RETRY_DUE_AT_HEADER]: String(Date.now() + outcome.delayMs),
      };
      const topic = names.retry(delivery.channel, subscription.group, tier);
      await publisher.send([
        { topic, message: { key, value, headers }, size: recordSize(value, headers) },
      ]);
    } else if (outcome.type === 'deadLetter') {
      const headers: Record<string, string> = { ...outcome.headers };
      delete headers[RETRY_DUE_AT_HEADER];
      const topic = names.deadLetter(delivery.channel);
      await publisher.send([
        { topic, message: { key, value, headers }, size: recordSize(value, headers) },
      ]);
    }
  }
}

export function recordSize(value: Uint8Array, headers: Record<string, string>): number {
  let size = value.byteLength + 64;
  for (const name in headers) size += name.length + Buffer.byteLength(headers[name] as string);
  return size;
}
