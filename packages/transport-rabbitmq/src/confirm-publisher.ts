import {
  EdakitError,
  ErrorCodes,
  type Logger,
  messageOf,
  PublishError,
  TransportClosedError,
} from '@edakit/core';
import type { ConfirmChannel, Message, Options } from 'amqplib';
import { settleWithin } from './backoff';
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
  readonly failFastWhenBlocked: boolean;
  readonly redact: (text: string) => string;
  readonly logger: Logger;
  /** Told of every error that closes a publishing channel (a 404 on a deleted exchange, for instance). */
  readonly onChannelError?: ((error: Error) => void) | undefined;
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
 * `drain`; nothing waits forever and nothing is buffered without bound.
 */
export class ConfirmPublisher {
  private lane: Lane | undefined;
  private opening: Promise<Lane> | undefined;
  private readonly queue: Entry[] = [];
  private queueHead = 0;
  private pumping = false;
  private inFlight = 0;
  private readonly live = new Set<Entry>();
  private sweeper: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private closed = false;
  private idle: (() => void) | undefined;
  /** Publishes that failed, for health. */
  failures = 0;

  constructor(
    private readonly connection: ManagedConnection,
    private readonly options: ConfirmPublisherOptions,
  ) {}

  get pending(): number {
    return this.live.size;
  }

  publish(
    target: PublishTarget,
    content: Buffer,
    properties: Options.Publish & { messageId: string },
    /** When it must be settled (epoch ms); default `timeoutMs` from now. */
    deadline?: number,
  ): Promise<void> {
    if (this.closed) return Promise.reject(new TransportClosedError('rabbitmq'));
    if (this.options.failFastWhenBlocked && this.connection.isBlocked) {
      return Promise.reject(
        new PublishError('RabbitMQ is blocking the publishing connection (resource alarm)', {
          context: { exchange: target.exchange, routingKey: target.routingKey },
        }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const entry: Entry = {
        target,
        content,
        properties: target.mandatory ? { ...properties, mandatory: true } : properties,
        deadline: deadline ?? Date.now() + this.options.timeoutMs,
        resolve,
        reject,
        settled: false,
      };
      this.live.add(entry);
      this.queue.push(entry);
      this.startSweeper();
      this.pump();
    });
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

  private async drainQueue(): Promise<void> {
    while (this.queueHead < this.queue.length) {
      const head = this.queue[this.queueHead] as Entry;
      if (head.settled) {
        this.shift();
        continue;
      }
      let lane: Lane;
      try {
        lane =
          this.lane?.open === true
            ? this.lane
            : await this.openLane(Math.max(1, head.deadline - Date.now()));
      } catch (error) {
        if (isClosedError(error)) {
          this.fail(head, error as Error);
          continue;
        }
        // The connection is down: entries time out on their own; keep trying.
        await this.waitForChange(Math.min(250, Math.max(1, head.deadline - Date.now())));
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
      if (head.settled) continue;
      this.write(lane, head);
    }
    if (this.queueHead > 0) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private shift(): void {
    this.queueHead++;
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
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
      if (entry.deadline > now) continue;
      const lane = entry.lane;
      this.fail(
        entry,
        new PublishError(
          lane
            ? `RabbitMQ did not confirm the message to ${describe(entry.target)} within ${this.options.timeoutMs} ms (it may or may not have been delivered)`
            : `Could not send the message to ${describe(entry.target)} within ${this.options.timeoutMs} ms: ${this.connection.isConnected ? (this.connection.isBlocked ? 'the broker blocks the connection' : 'the channel is busy') : 'no connection to RabbitMQ'}; nothing was sent`,
          { context: context(entry) },
        ),
      );
      if (lane?.open) this.abandon(lane, 'a confirm timed out');
    }
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

  private openLane(timeoutMs: number): Promise<Lane> {
    if (this.lane?.open) return Promise.resolve(this.lane);
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
