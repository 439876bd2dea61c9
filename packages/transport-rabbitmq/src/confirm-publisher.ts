import {
  EdakitError,
  ErrorCodes,
  type Logger,
  messageOf,
  PublishError,
  TransportClosedError,
} from '@edakit/core';
import type { ConfirmChannel, Message, Options } from 'amqplib';
import { settleWithin, withTimeout } from './backoff';
import { BrokerUnavailableError, PublishQueueFullError } from './errors';
import type { ManagedConnection } from './managed-connection';

export interface PublishTarget {
  readonly exchange: string;
  readonly routingKey: string;
  /** Ask the broker to return the message when no queue takes it; the publish then rejects. */
  readonly mandatory: boolean;
}

export interface ConfirmPublisherOptions {
  readonly timeoutMs: number;
  readonly maxInFlight: number;
  /**
   * Publishes that may wait to be written (no channel yet, the broker blocking
   * the connection, the in-flight window full); beyond it a publish rejects at
   * once with PublishQueueFullError. Default 10 000.
   */
  readonly maxQueued?: number | undefined;
  readonly failFastWhenBlocked: boolean;
  readonly redact: (text: string) => string;
  readonly logger: Logger;
  /** Told of every error that closes a publishing channel (a 404 on a deleted exchange, for instance). */
  readonly onChannelError?: ((error: Error) => void) | undefined;
}

/** One message of `publishAll`. */
export interface PublishItem {
  readonly target: PublishTarget;
  readonly content: Buffer;
  readonly properties: Options.Publish & { messageId: string };
}

interface Entry {
  readonly target: PublishTarget;
  readonly content: Buffer;
  readonly properties: Options.Publish & { messageId: string };
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  /** The channel it was written on, once written. */
  lane?: Lane | undefined;
  returned?: { code: number; text: string } | undefined;
  settled: boolean;
  /** Still in the waiting queue (not yet written). */
  queued: boolean;
}

/** One confirm channel and what is unconfirmed on it. */
interface Lane {
  readonly channel: ConfirmChannel;
  open: boolean;
  /** Written, not yet confirmed, in write order. */
  readonly unconfirmed: Set<Entry>;
  /**
   * Mandatory messages by exchange, routing key and messageId, to match a
   * `basic.return` to its publish: retry and dead-letter copies keep the event
   * id, so the id alone may name several publishes in flight.
   */
  readonly awaitingReturn: Map<string, Entry[]>;
  draining: Promise<void> | undefined;
  endDrain: (() => void) | undefined;
}

/**
 * Publishes with publisher confirms: a promise per message that resolves on
 * `basic.ack` and rejects on `basic.nack`, on `basic.return` (mandatory), on a
 * channel or connection loss before the confirm, and on timeout. Messages are
 * written in call order, at most `maxInFlight` unconfirmed, pausing on
 * `drain`; nothing waits forever and nothing is buffered without bound: at
 * most `maxQueued` wait to be written, each until its deadline, and a channel
 * that does not open (a broker that blocks the connection never answers
 * `channel.open`) is waited for only until the oldest publish's deadline.
 */
export class ConfirmPublisher {
  private lane: Lane | undefined;
  private opening: Promise<Lane> | undefined;
  /** Waiting to be written, in call order; slots before `queueHead` are done. */
  private queue: Array<Entry | undefined> = [];
  private queueHead = 0;
  /** Entries of `queue` that settled while waiting (their deadline passed). */
  private settledQueued = 0;
  private pumping = false;
  private inFlight = 0;
  private readonly live = new Set<Entry>();
  private sweeper: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private closed = false;
  private idle: (() => void) | undefined;
  /** Publishes that failed, for health. */
  failures = 0;
  private readonly maxQueued: number;

  constructor(
    private readonly connection: ManagedConnection,
    private readonly options: ConfirmPublisherOptions,
  ) {
    this.maxQueued = options.maxQueued ?? 10_000;
  }

  /** Publishes not yet settled, written or waiting. */
  get pending(): number {
    return this.live.size;
  }

  /** Publishes held in the waiting queue, not yet written: at most `maxQueued`. */
  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  /**
   * Rejects with PublishQueueFullError unless `count` more publishes may
   * wait: a batch is taken whole or not at all (the publishes that follow,
   * synchronously, then find room).
   */
  admit(count: number, target: PublishTarget, properties: Options.Publish): void {
    if (!this.hasRoom(count)) throw this.queueFull(count, target, properties);
  }

  private queueFull(
    count: number,
    target: PublishTarget,
    properties: Options.Publish,
  ): PublishQueueFullError {
    return new PublishQueueFullError({
      queued: this.queued,
      maxQueued: this.maxQueued,
      count,
      blocked: this.connection.isBlocked,
      connected: this.connection.isConnected,
      eventId: properties.messageId,
      eventType: properties.type,
      exchange: target.exchange,
      routingKey: target.routingKey,
    });
  }

  publish(
    target: PublishTarget,
    content: Buffer,
    properties: Options.Publish & { messageId: string },
    /** When it must be settled (epoch ms); default `timeoutMs` from now. */
    deadline?: number,
  ): Promise<void> {
    return this.publishAll([{ target, content, properties }], deadline);
  }

  /**
   * Publishes every item, in order, like `Promise.all` over `publish` of each:
   * resolves once the broker confirmed all of them, rejects with the first
   * failure (the others still settle on their own, each within its deadline).
   * One promise for the batch instead of one per message. Admitted whole or
   * not at all.
   */
  publishAll(items: readonly PublishItem[], deadline?: number): Promise<void> {
    const first = items[0];
    if (first === undefined) return Promise.resolve();
    const refused = this.refuse(items.length, first.target, first.properties);
    if (refused) return Promise.reject(refused);
    return new Promise<void>((resolve, reject) => {
      let remaining = items.length;
      let failed = false;
      const confirmed = (): void => {
        if (--remaining === 0 && !failed) resolve();
      };
      const fail = (error: Error): void => {
        if (failed) return;
        failed = true;
        reject(error);
      };
      const at = deadline ?? Date.now() + this.options.timeoutMs;
      for (const item of items) {
        this.enqueue(item.target, item.content, item.properties, at, confirmed, fail);
      }
      this.startSweeper();
      this.pump();
    });
  }

  /** Why `count` publishes cannot be taken now (closed, blocked, queue full), or undefined. */
  private refuse(
    count: number,
    target: PublishTarget,
    properties: Options.Publish,
  ): Error | undefined {
    if (this.closed) return new TransportClosedError('rabbitmq');
    if (this.options.failFastWhenBlocked && this.connection.isBlocked) {
      return new PublishError('RabbitMQ is blocking the publishing connection (resource alarm)', {
        context: { exchange: target.exchange, routingKey: target.routingKey },
      });
    }
    return this.hasRoom(count) ? undefined : this.queueFull(count, target, properties);
  }

  private enqueue(
    target: PublishTarget,
    content: Buffer,
    properties: Options.Publish & { messageId: string },
    deadline: number,
    resolve: () => void,
    reject: (error: Error) => void,
  ): void {
    const entry: Entry = {
      target,
      content,
      properties: target.mandatory ? { ...properties, mandatory: true } : properties,
      deadline,
      resolve,
      reject,
      lane: undefined,
      returned: undefined,
      settled: false,
      queued: true,
    };
    this.live.add(entry);
    this.queue.push(entry);
  }

  /** Waits for every outstanding publish to settle (each is bounded by the timeout), then closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.live.size > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const lane = this.lane;
    this.lane = undefined;
    if (lane?.open) {
      lane.open = false;
      await settleWithin(lane.channel.close());
    }
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.drainQueue()
      .catch((error: unknown) => {
        this.options.logger.error(
          { error: this.options.redact(messageOf(error)) },
          'rabbitmq publisher loop failed',
        );
      })
      .finally(() => {
        this.pumping = false;
        if (this.queueHead < this.queue.length) this.pump();
      });
  }

  /**
   * Writes the queue's head whenever a channel and the window allow. Reads
   * the head again after every wait: the queue may have been compacted.
   */
  private async drainQueue(): Promise<void> {
    let written = 0;
    while (this.queueHead < this.queue.length) {
      const head = this.queue[this.queueHead];
      if (!head || head.settled) {
        this.shift();
        continue;
      }
      if (head.deadline <= Date.now()) {
        this.expire(head);
        this.shift();
        continue;
      }
      const lane = this.lane;
      if (lane?.open !== true) {
        try {
          // Bounded by the head's deadline: the open itself goes on for the next ones.
          await this.openLane(Math.max(1, head.deadline - Date.now()));
        } catch (error) {
          if (isClosedError(error)) {
            this.fail(head, error as Error);
            continue;
          }
          // No connection or no channel yet: entries time out on their own; keep trying.
          await this.waitForChange(Math.min(250, Math.max(1, head.deadline - Date.now())));
        }
        continue;
      }
      if (lane.draining) {
        await lane.draining;
        continue;
      }
      if (this.inFlight >= this.options.maxInFlight) {
        await this.waitForChange(250);
        continue;
      }
      this.shift();
      this.write(lane, head);
      if (++written >= WRITE_SLICE && this.queueHead < this.queue.length) {
        // amqplib only queues the frames; its muxer hands them to the socket
        // on the next turn of the event loop. Letting it run every slice
        // sends the first messages while the rest are still being encoded.
        written = 0;
        await yieldToIo();
      }
    }
    this.queue = [];
    this.queueHead = 0;
    this.settledQueued = 0;
  }

  private shift(): void {
    const entry = this.queue[this.queueHead];
    this.queue[this.queueHead] = undefined;
    this.queueHead++;
    if (entry) {
      entry.queued = false;
      if (entry.settled) this.settledQueued--;
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  /** Room for `count` more waiting publishes, once those that timed out while waiting are dropped. */
  private hasRoom(count: number): boolean {
    if (this.queued + count <= this.maxQueued) return true;
    if (this.settledQueued > 0) this.compact();
    return this.queued + count <= this.maxQueued;
  }

  /** Drops the settled entries from the waiting queue (they keep their content alive). */
  private compact(): void {
    const kept: Entry[] = [];
    for (let index = this.queueHead; index < this.queue.length; index++) {
      const entry = this.queue[index];
      if (!entry) continue;
      if (entry.settled) entry.queued = false;
      else kept.push(entry);
    }
    this.queue = kept;
    this.queueHead = 0;
    this.settledQueued = 0;
  }

  private write(lane: Lane, entry: Entry): void {
    entry.lane = lane;
    this.inFlight++;
    lane.unconfirmed.add(entry);
    const { target } = entry;
    if (target.mandatory) {
      const key = returnKey(target.exchange, target.routingKey, entry.properties.messageId);
      const list = lane.awaitingReturn.get(key) ?? [];
      list.push(entry);
      lane.awaitingReturn.set(key, list);
    }
    let writable: boolean;
    try {
      writable = lane.channel.publish(
        target.exchange,
        target.routingKey,
        entry.content,
        entry.properties,
        (error: unknown) => this.confirmed(lane, entry, error),
      );
    } catch (error) {
      // Header table over 64 KiB (RangeError), channel closed (IllegalOperationError).
      this.forget(lane, entry);
      const tooLarge = error instanceof RangeError;
      this.fail(
        entry,
        new PublishError(
          `RabbitMQ publish to ${describe(target)} failed before sending: ${messageOf(error)}`,
          { cause: error, context: context(entry), retryable: !tooLarge },
        ),
      );
      if (!tooLarge) this.abandon(lane, 'publish threw');
      return;
    }
    if (!writable && !lane.draining) {
      lane.draining = new Promise<void>((resolve) => {
        const done = () => {
          lane.channel.off('drain', done);
          lane.channel.off('close', done);
          lane.draining = undefined;
          lane.endDrain = undefined;
          resolve();
        };
        lane.endDrain = done;
        lane.channel.on('drain', done);
        lane.channel.on('close', done);
      });
    }
  }

  private confirmed(lane: Lane, entry: Entry, error: unknown): void {
    if (!lane.unconfirmed.has(entry)) return;
    this.forget(lane, entry);
    if (error) {
      const nacked = /nack/i.test(messageOf(error));
      this.fail(
        entry,
        new PublishError(
          nacked
            ? `RabbitMQ refused (basic.nack) the message to ${describe(entry.target)}`
            : `RabbitMQ did not confirm the message to ${describe(entry.target)} before its channel closed: ${this.options.redact(messageOf(error))} (it may or may not have been delivered)`,
          { context: context(entry) },
        ),
      );
    } else if (entry.returned) {
      this.fail(
        entry,
        new PublishError(
          `RabbitMQ returned the message to ${describe(entry.target)}: ${entry.returned.code} ${entry.returned.text} (no queue is bound for it)`,
          { context: { ...context(entry), replyCode: entry.returned.code }, retryable: false },
        ),
      );
    } else {
      this.succeed(entry);
    }
  }

  private forget(lane: Lane, entry: Entry): void {
    if (!lane.unconfirmed.delete(entry)) return;
    this.inFlight--;
    if (entry.target.mandatory) {
      const key = returnKey(
        entry.target.exchange,
        entry.target.routingKey,
        entry.properties.messageId,
      );
      const list = lane.awaitingReturn.get(key);
      if (list) {
        const index = list.indexOf(entry);
        if (index >= 0) list.splice(index, 1);
        if (list.length === 0) lane.awaitingReturn.delete(key);
      }
    }
    this.notify();
  }

  private succeed(entry: Entry): void {
    if (entry.settled) return;
    entry.settled = true;
    this.done(entry);
    entry.resolve();
  }

  private fail(entry: Entry, error: Error): void {
    if (entry.settled) return;
    entry.settled = true;
    this.failures++;
    this.done(entry);
    entry.reject(error);
  }

  private done(entry: Entry): void {
    if (entry.queued) this.settledQueued++;
    this.live.delete(entry);
    if (this.live.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      this.idle?.();
      this.idle = undefined;
    }
  }

  /** Publishes past their deadline reject; a written one also retires its channel. */
  private startSweeper(): void {
    if (this.sweeper) return;
    const every = Math.max(10, Math.min(250, Math.floor(this.options.timeoutMs / 4)));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  private sweep(): void {
    const now = Date.now();
    for (const entry of this.live) {
      // Not always in deadline order: a transport publish's deadline starts
      // before it waits for the exchanges.
      if (entry.deadline <= now) this.expire(entry);
    }
    if (this.settledQueued > 1024 && this.settledQueued * 2 > this.queued) this.compact();
  }

  /** Past its deadline: rejects; a written one also retires its channel (outcome unknown). */
  private expire(entry: Entry): void {
    const lane = entry.lane;
    const blocked = this.connection.isBlocked;
    this.fail(
      entry,
      new PublishError(
        lane
          ? `RabbitMQ did not confirm the message to ${describe(entry.target)} within ${this.options.timeoutMs} ms${blocked ? ' (the broker blocks the connection: resource alarm)' : ''} (it may or may not have been delivered)`
          : `Could not send the message to ${describe(entry.target)} within ${this.options.timeoutMs} ms: ${this.connection.isConnected ? (blocked ? 'the broker blocks the connection (resource alarm)' : 'no channel (the broker did not open one, or the in-flight window stayed full)') : 'no connection to RabbitMQ'}; nothing was sent`,
        {
          context: {
            ...context(entry),
            reason: lane ? 'unconfirmed' : 'not-sent',
            blocked,
            timeoutMs: this.options.timeoutMs,
          },
        },
      ),
    );
    if (lane?.open) this.abandon(lane, 'a confirm timed out');
  }

  /**
   * Gives up on a channel: everything unconfirmed on it rejects now (outcome
   * unknown) and the next publish opens a new one.
   */
  private abandon(lane: Lane, why: string): void {
    if (!lane.open) return;
    lane.open = false;
    if (this.lane === lane) this.lane = undefined;
    for (const entry of [...lane.unconfirmed]) this.confirmed(lane, entry, new Error(why));
    lane.endDrain?.();
    lane.channel.close().catch(() => undefined);
    this.notify();
  }

  /**
   * The open channel, or one opened within `timeoutMs`. A broker that blocks
   * the connection (resource alarm) reads nothing more from it, so
   * `channel.open` gets no answer until the alarm clears: the caller gives up
   * at `timeoutMs` while the open goes on, shared by the next callers.
   */
  private openLane(timeoutMs: number): Promise<Lane> {
    if (this.lane?.open) return Promise.resolve(this.lane);
    const opening = this.startOpening(timeoutMs);
    return withTimeout(
      opening,
      timeoutMs,
      () =>
        new BrokerUnavailableError(
          `RabbitMQ did not open a publishing channel within ${timeoutMs} ms${this.connection.isBlocked ? ': it blocks the connection (resource alarm)' : ''}`,
          { blocked: this.connection.isBlocked },
        ),
    );
  }

  private startOpening(timeoutMs: number): Promise<Lane> {
    this.opening ??= (async () => {
      const model = await this.connection.get(timeoutMs);
      const channel = await model.createConfirmChannel();
      const lane: Lane = {
        channel,
        open: true,
        unconfirmed: new Set(),
        awaitingReturn: new Map(),
        draining: undefined,
        endDrain: undefined,
      };
      channel.on('error', (error: Error) => {
        this.options.logger.warn(
          { error: this.options.redact(messageOf(error)) },
          'rabbitmq publisher channel error',
        );
        this.options.onChannelError?.(error);
      });
      channel.on('handler-error', (error: Error) => {
        this.options.logger.error(
          { error: this.options.redact(messageOf(error)) },
          'a rabbitmq publisher listener threw',
        );
      });
      channel.on('return', (message: Message) => {
        const key = returnKey(
          message.fields.exchange,
          message.fields.routingKey,
          String(message.properties.messageId ?? ''),
        );
        const entry = lane.awaitingReturn.get(key)?.find((candidate) => !candidate.returned);
        if (entry) {
          // basic.return carries replyCode/replyText, which amqplib's types leave out.
          const fields = message.fields as { replyCode?: number; replyText?: string };
          entry.returned = { code: fields.replyCode ?? 312, text: fields.replyText ?? 'NO_ROUTE' };
        }
      });
      channel.on('close', () => {
        lane.open = false;
        if (this.lane === lane) this.lane = undefined;
        for (const entry of [...lane.unconfirmed]) {
          this.confirmed(lane, entry, new Error('channel closed'));
        }
        this.notify();
      });
      this.lane = lane;
      // The pump may be waiting out a failed attempt: the channel is here now.
      this.notify();
      return lane;
    })().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const previous = this.wake;
      function done() {
        clearTimeout(timer);
        previous?.();
        resolve();
      }
      this.wake = done;
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Messages written in one go before the publisher lets the socket take them. */
const WRITE_SLICE = 100;

const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Which publish a `basic.return` belongs to: it echoes the exchange and routing key. */
function returnKey(exchange: string, routingKey: string, messageId: string): string {
  return JSON.stringify([exchange, routingKey, messageId]);
}

function describe(target: PublishTarget): string {
  return target.exchange === ''
    ? `queue "${target.routingKey}"`
    : `exchange "${target.exchange}" (routing key "${target.routingKey}")`;
}

function context(entry: Entry): Record<string, unknown> {
  return {
    eventId: entry.properties.messageId,
    eventType: entry.properties.type,
    exchange: entry.target.exchange,
    routingKey: entry.target.routingKey,
  };
}

function isClosedError(error: unknown): boolean {
  return EdakitError.isInstance(error) && error.code === ErrorCodes.TRANSPORT_CLOSED;
}
