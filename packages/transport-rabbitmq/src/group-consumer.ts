import { randomUUID } from 'node:crypto';
import {
  type Delivery,
  EdakitError,
  ErrorCodes,
  KeyedQueue,
  type Logger,
  messageOf,
  type SettleOutcome,
  type TransportConsumer,
  type TransportSubscription,
} from '@edakit/core';
import type { Channel, ConsumeMessage } from 'amqplib';
import { AckBatcher } from './ack-batcher';
import {
  AMQP_HEADER_NAMING,
  defaultChannelOf,
  fromAmqp,
  TransportHeaders,
  toAmqp,
} from './amqp-message';
import { backoffDelay, settleWithin, sleep } from './backoff';
import type { ConfirmPublisher } from './confirm-publisher';
import type { ManagedConnection } from './managed-connection';
import type { Topology } from './topology';
import { expirationFor, tierFor } from './topology-names';

export interface GroupConsumerOptions {
  readonly subscription: TransportSubscription;
  readonly connection: ManagedConnection;
  readonly publisher: ConfirmPublisher;
  readonly topology: Topology;
  readonly prefetch: number;
  readonly connectTimeoutMs: number;
  readonly reconnectDelayMs: number;
  readonly maxReconnectDelayMs: number;
  /**
   * How long `stop()` waits for handlers in flight before it closes the
   * channel (the broker requeues their deliveries) and returns. Core resolves
   * every handler by its own stop deadline; this bounds a `transport.close()`
   * called directly. Default 30 s.
   */
  readonly stopTimeoutMs?: number | undefined;
  readonly redact: (text: string) => string;
  readonly logger: Logger;
}

/** What health shows of one group's consumer. */
export interface GroupConsumerState {
  readonly group: string;
  readonly queue: string;
  /** A channel is open and consuming. */
  readonly running: boolean;
  /** Handlers running now. */
  readonly inFlight: number;
  /** Delivered, waiting for their key (or a slot). */
  readonly buffered: number;
  /** Deliveries of the current channel not yet acknowledged, running or buffered. */
  readonly unacked: number;
  /** Times the consumer was re-established after a loss or a server cancel. */
  readonly resubscribes: number;
  readonly channelErrors: number;
  readonly lastError?: string | undefined;
}

/** One consumer channel. Deliveries remember theirs: a tag is only valid there. */
interface Lane {
  readonly channel: Channel;
  readonly id: number;
  readonly acks: AckBatcher;
  open: boolean;
  consumerTag?: string | undefined;
}

interface Buffered {
  readonly message: ConsumeMessage;
  readonly lane: Lane;
  readonly delivery: Delivery;
  readonly type: string;
  readonly messageId: string | undefined;
}

/**
 * The consumer of one group's queue. Up to `concurrency` deliveries run at
 * once, never two with the same key (KeyedQueue). Outcomes: ack; retry =
 * publish (confirmed) to the group's tier queue, then ack; dead letter =
 * publish (confirmed) to `<queue>.dlq`, then ack; release = requeue. A lost
 * channel or connection, or a server-side cancel, re-declares the topology and
 * consumes again, once; settlements of deliveries from a closed channel are
 * dropped (the broker has requeued them).
 */
export class GroupConsumer implements TransportConsumer {
  private lane: Lane | undefined;
  private laneCounter = 0;
  private readonly buffer = new KeyedQueue<Buffered>();
  /** Buffered deliveries already requeued with an earlier one of their key: skipped when taken. */
  private readonly requeued = new WeakSet<Buffered>();
  private readonly running = new Set<Promise<void>>();
  private active = 0;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private attaching = false;
  private attachAgain = false;
  private attachTimer: NodeJS.Timeout | undefined;
  private attachFailures = 0;
  private resubscribes = 0;
  private channelErrors = 0;
  private lastError: string | undefined;
  readonly queue: string;
  private readonly group: string;

  constructor(private readonly options: GroupConsumerOptions) {
    this.group = options.subscription.group;
    this.queue = options.topology.settings.names.queue(this.group);
  }

  get state(): GroupConsumerState {
    return {
      group: this.group,
      queue: this.queue,
      running: this.lane?.open === true && this.lane.consumerTag !== undefined && !this.stopping,
      inFlight: this.active,
      buffered: this.buffer.size,
      unacked: this.lane?.acks.retained ?? 0,
      resubscribes: this.resubscribes,
      channelErrors: this.channelErrors,
      lastError: this.lastError,
    };
  }

  /** Declares the group's topology and starts consuming; rejects if either fails. */
  async start(): Promise<void> {
    this.attaching = true;
    try {
      await this.attach(this.options.connectTimeoutMs);
    } catch (error) {
      this.stopping = true;
      const lane = this.lane;
      this.lane = undefined;
      if (lane?.open) await settleWithin(lane.channel.close());
      throw error;
    } finally {
      this.attaching = false;
    }
    if (this.attachAgain && this.lane?.open !== true) this.scheduleAttach();
  }

  stop(): Promise<void> {
    this.stopped ??= this.stopNow();
    return this.stopped;
  }

  private async stopNow(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.attachTimer);
    const lane = this.lane;
    if (lane?.open && lane.consumerTag !== undefined) {
      // No new deliveries; what is unacked stays ours until settled or requeued.
      await settleWithin(lane.channel.cancel(lane.consumerTag));
    }
    // Core resolves every handle() by the stop deadline; settling may await confirms.
    // Called directly (transport.close()), a stuck handler must not hold the stop forever.
    const limit = this.options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    const deadline = Date.now() + limit;
    while (this.running.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.options.logger.warn(
          {
            group: this.group,
            queue: this.queue,
            inFlight: this.running.size,
            stopTimeoutMs: limit,
          },
          'rabbitmq consumer stop timed out with handlers still running; their deliveries are requeued',
        );
        break;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.running]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, left);
        }),
      ]);
      clearTimeout(timer);
    }
    // A re-attach that was under way when the stop began may have opened another channel.
    const lanes = new Set([lane, this.lane]);
    this.lane = undefined;
    for (const open of lanes) if (open?.open) await this.closeLane(open);
  }

  /** Sends pending acks, requeues everything else in one step (queue order kept), closes. */
  private async closeLane(lane: Lane): Promise<void> {
    lane.acks.flush();
    lane.open = false;
    try {
      lane.channel.nackAll(true);
    } catch {
      // The channel is closing anyway: the broker requeues.
    }
    await settleWithin(lane.channel.close());
  }

  private async attach(connectTimeoutMs?: number): Promise<void> {
    const { connection, topology, subscription, logger } = this.options;
    const model = await connection.get(connectTimeoutMs);
    if (this.stopping) return;
    await topology.declareGroup(model, this.group, subscription.types);
    if (this.stopping) return;
    const channel = await model.createChannel();
    const lane: Lane = {
      channel,
      id: ++this.laneCounter,
      open: true,
      acks: new AckBatcher(channel, () => lane.open),
    };
    this.lane = lane;
    channel.on('error', (error: Error) => {
      this.channelErrors++;
      this.lastError = this.options.redact(messageOf(error));
      logger.warn(
        { group: this.group, queue: this.queue, error: this.lastError },
        'rabbitmq consumer channel error',
      );
    });
    channel.on('handler-error', (error: Error) => {
      logger.error(
        { group: this.group, error: this.options.redact(messageOf(error)) },
        'a rabbitmq consumer listener threw',
      );
    });
    channel.on('close', () => this.laneClosed(lane));
    await channel.prefetch(this.options.prefetch, false);
    if (!lane.open || this.stopping) {
      if (lane.open) await settleWithin(channel.close());
      return;
    }
    const { consumerTag } = await channel.consume(
      this.queue,
      (message) => this.onMessage(lane, message),
      { noAck: false, consumerTag: `edakit-${this.group}-${randomUUID().slice(0, 8)}` },
    );
    lane.consumerTag = consumerTag;
    if (this.stopping && lane.open && this.lane === lane) {
      // stop() began while we subscribed: nothing of this channel was handled.
      this.lane = undefined;
      await this.closeLane(lane);
    }
  }

  private laneClosed(lane: Lane): void {
    lane.open = false;
    if (this.lane !== lane) return;
    this.lane = undefined;
    if (this.stopping) return;
    this.options.logger.warn(
      { group: this.group, queue: this.queue, error: this.lastError },
      'rabbitmq consumer channel closed; consuming again',
    );
    this.scheduleAttach();
  }

  /** One re-attach at a time, with backoff; a request during an attach runs after it. */
  private scheduleAttach(): void {
    if (this.stopping) return;
    if (this.attaching) {
      this.attachAgain = true;
      return;
    }
    if (this.attachTimer) return;
    const delay = backoffDelay(
      ++this.attachFailures,
      this.options.reconnectDelayMs,
      this.options.maxReconnectDelayMs,
    );
    this.attachTimer = setTimeout(() => {
      this.attachTimer = undefined;
      void this.reattach();
    }, delay);
  }

  private async reattach(): Promise<void> {
    if (this.stopping || this.lane?.open) return;
    this.attaching = true;
    this.attachAgain = false;
    try {
      await this.attach();
      if (this.lane?.open) {
        this.attachFailures = 0;
        this.resubscribes++;
        this.options.logger.info(
          { group: this.group, queue: this.queue },
          'rabbitmq consumer resubscribed',
        );
      }
    } catch (error) {
      this.lastError = this.options.redact(messageOf(error));
      this.options.logger.error(
        { group: this.group, queue: this.queue, error: this.lastError },
        'rabbitmq consumer could not resubscribe; retrying',
      );
      const lane = this.lane;
      if (lane?.open) {
        this.lane = undefined;
        lane.open = false;
        await settleWithin(lane.channel.close());
      }
      this.attachAgain = true;
    } finally {
      this.attaching = false;
    }
    if (this.attachAgain && this.lane?.open !== true) this.scheduleAttach();
  }

  private onMessage(lane: Lane, message: ConsumeMessage | null): void {
    if (message === null) {
      // Server-side cancel (queue deleted, node down): declare again and consume again.
      this.options.logger.warn(
        { group: this.group, queue: this.queue },
        'rabbitmq cancelled the consumer; subscribing again',
      );
      if (lane.open && !this.stopping) {
        // Closed first, so no delivery still buffered from this channel starts on it
        // (the broker requeues them all); acks already due go out before the close.
        lane.acks.flush();
        lane.open = false;
        lane.channel.close().catch(() => undefined);
      }
      return;
    }
    if (!lane.open) return;
    lane.acks.delivered(message);
    // Stopping: leave it unacknowledged; stop() requeues it.
    if (this.stopping) return;
    const incoming = fromAmqp(message, AMQP_HEADER_NAMING);
    const delivery: Delivery = {
      message: incoming.message,
      channel: incoming.channel ?? this.channelFor(incoming.type),
      origin: this.queue,
    };
    this.buffer.push(incoming.message.key, {
      message,
      lane,
      delivery,
      type: incoming.type,
      messageId: incoming.messageId,
    });
    this.pump();
  }

  private channelFor(type: string): string {
    const channels = this.options.subscription.channels;
    const guess = defaultChannelOf(type);
    if (channels.includes(guess) || channels.length !== 1) return guess;
    return channels[0] as string;
  }

  private pump(): void {
    while (!this.stopping && this.active < this.options.subscription.concurrency) {
      const next = this.buffer.take();
      if (!next) return;
      if (!next.item.lane.open || this.requeued.has(next.item)) {
        // Its channel is gone (the broker redelivers it), or it was requeued behind
        // an earlier delivery of its key.
        this.requeued.delete(next.item);
        this.buffer.done(next.key);
        continue;
      }
      this.active++;
      const run = this.process(next.key, next.item);
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }
  }

  private async process(key: string, item: Buffered): Promise<void> {
    try {
      let outcome: SettleOutcome;
      try {
        outcome = await this.options.subscription.handle(item.delivery);
      } catch {
        outcome = { type: 'release' };
      }
      try {
        await this.settle(outcome, item);
      } catch (error) {
        await this.settleFailed(outcome, item, error);
      }
    } finally {
      this.active--;
      this.buffer.done(key);
      this.pump();
    }
  }

  private async settle(outcome: SettleOutcome, item: Buffered): Promise<void> {
    const { lane, message } = item;
    // A delivery tag is only valid on the channel that delivered it.
    if (!lane.open) return;
    switch (outcome.type) {
      case 'ack':
        lane.acks.ack(message);
        return;
      case 'release':
        // While stopping, stop() requeues everything at once, in order.
        if (!this.stopping) this.requeueInOrder(item);
        return;
      case 'retry': {
        const { names, retryTiersMs } = this.options.topology.settings;
        const tier = tierFor(outcome.delayMs, retryTiersMs);
        const out = this.outgoing(item, outcome.headers);
        const expiration = expirationFor(outcome.delayMs, tier);
        if (expiration !== undefined) out.properties.expiration = expiration;
        await this.options.publisher.publish(
          { exchange: '', routingKey: names.retry(this.group, tier), mandatory: true },
          out.content,
          out.properties,
        );
        break;
      }
      case 'deadLetter': {
        const out = this.outgoing(item, outcome.headers);
        out.properties.headers[TransportHeaders.deadLetterId] = randomUUID();
        await this.options.publisher.publish(
          {
            exchange: '',
            routingKey: this.options.topology.settings.names.deadLetter(this.group),
            mandatory: true,
          },
          out.content,
          out.properties,
        );
        break;
      }
    }
    // Confirmed elsewhere: now the original may go. A crash in between duplicates, never loses.
    lane.acks.ack(message);
  }

  private outgoing(item: Buffered, headers: Readonly<Record<string, string>>) {
    return toAmqp(
      { ...item.delivery.message, headers },
      item.delivery.channel,
      item.type,
      AMQP_HEADER_NAMING,
      item.messageId,
    );
  }

  /**
   * Requeues `item` and, right after it and in order, the deliveries of its
   * key already buffered behind it on the same channel: otherwise the next one
   * would run before `item` comes back, breaking the key's order. The broker
   * redelivers them in that order. (A delivery of the key the broker sent
   * before it received these nacks can still run first, like any
   * redelivery across consumers.)
   */
  private requeueInOrder(item: Buffered): void {
    item.lane.acks.nack(item.message, true);
    const key = item.delivery.message.key;
    if (key === undefined) return;
    for (const waiting of this.buffer.waiting()) {
      if (waiting.lane !== item.lane || waiting.delivery.message.key !== key) continue;
      if (this.requeued.has(waiting)) continue;
      this.requeued.add(waiting);
      waiting.lane.acks.nack(waiting.message, true);
    }
  }

  /**
   * The retry or dead letter could not be published (or the ack threw): the
   * original goes back to the queue, after a pause that keeps a broken broker
   * from spinning it. A publish that can never succeed (the copy's headers
   * exceed the 64 KiB AMQP limit) would loop forever that way: the original is
   * rejected instead, so the queue's own dead-letter target (`<queue>.dlq`)
   * takes it, listed with reason `RABBITMQ_REJECTED`.
   */
  private async settleFailed(
    outcome: SettleOutcome,
    item: Buffered,
    error: unknown,
  ): Promise<void> {
    this.lastError = this.options.redact(messageOf(error));
    if (neverPublishable(error)) {
      this.options.logger.error(
        { group: this.group, queue: this.queue, outcome: outcome.type, error: this.lastError },
        'rabbitmq could not settle a delivery and never will; rejecting it to the dead-letter queue',
      );
      if (this.stopping) return;
      item.lane.acks.nack(item.message, false);
      return;
    }
    this.options.logger.error(
      { group: this.group, queue: this.queue, outcome: outcome.type, error: this.lastError },
      'rabbitmq could not settle a delivery; it will be delivered again',
    );
    if (!this.stopping) await sleep(1_000);
    if (this.stopping) return;
    this.requeueInOrder(item);
    if (isNoRoute(error) && this.lane === item.lane && item.lane.open) {
      // A retry or dead-letter queue is gone (deleted by hand): consume again, which re-declares.
      item.lane.channel.close().catch(() => undefined);
    }
  }
}

const DEFAULT_STOP_TIMEOUT_MS = 30_000;

/**
 * A publish that fails the same way every time (not retryable, and not a
 * return: a missing queue is re-declared). Requeueing it would loop forever.
 */
function neverPublishable(error: unknown): boolean {
  if (error instanceof RangeError) return true;
  return (
    EdakitError.isInstance(error) &&
    error.code === ErrorCodes.PUBLISH_FAILED &&
    !error.retryable &&
    !isNoRoute(error)
  );
}

/** The broker returned a message published to one of the group's own queues: it no longer exists. */
function isNoRoute(error: unknown): boolean {
  return EdakitError.isInstance(error) && error.context.replyCode !== undefined;
}
