import { createHash } from 'node:crypto';
import {
  type DeadLetter,
  DeadLetterNotFoundError,
  FailureHeaders,
  headersForRedrive,
  messageOf,
  PublishError,
  readDeadLetterInfo,
} from '@edakit/core';
import type { ChannelModel, ConfirmChannel, GetMessage } from 'amqplib';
import {
  AMQP_HEADER_NAMING,
  defaultChannelOf,
  fromAmqp,
  headerValue,
  TransportHeaders,
  toAmqp,
} from './amqp-message';
import { settleWithin, withTimeout } from './backoff';
import { BrokerUnavailableError } from './errors';
import type { ManagedConnection } from './managed-connection';
import type { TopologyNames } from './topology-names';

export interface DeadLetterQueuesOptions {
  readonly connection: ManagedConnection;
  readonly names: TopologyNames;
  readonly connectTimeoutMs: number;
  readonly publishTimeoutMs: number;
  /** Most messages one list or redrive reads from a DLQ. */
  readonly maxBrowse: number;
}

interface Held {
  readonly message: GetMessage;
  readonly deadLetter: DeadLetter;
  readonly channel: string;
  readonly type: string;
  readonly messageId: string | undefined;
}

/**
 * Lists and redrives `<queue>.dlq`. A queue has no "peek": listing takes every
 * message with `basic.get` without acknowledging, then gives them all back in
 * one `basic.nack(multiple, requeue)`, so none is lost and their order stays.
 * The DLQ is a classic queue: no delivery limit, so browsing never drops or
 * moves a message (on RabbitMQ 4.0-4.2 a quorum queue would count each
 * browse as a delivery). While one list or redrive holds the messages, a
 * concurrent one does not see them.
 */
export class DeadLetterQueues {
  constructor(private readonly options: DeadLetterQueuesOptions) {}

  /**
   * With a `limit`, stops taking messages once `limit` of them match, so a
   * large DLQ is not read (and held) whole for a short page.
   */
  async list(group: string, channel?: string, limit?: number): Promise<DeadLetter[]> {
    const matches = (entry: Held) => channel === undefined || entry.channel === channel;
    let found = 0;
    const enough =
      limit === undefined
        ? undefined
        : (entry: Held) => {
            if (matches(entry)) found++;
            return found >= limit;
          };
    return this.browse(
      group,
      async (held) => {
        const matching = held.filter(matches);
        return matching.slice(0, limit ?? matching.length).map((entry) => entry.deadLetter);
      },
      limit === undefined || limit > 0 ? enough : () => true,
    );
  }

  /**
   * Sends dead letters back to the group's own queue (default exchange: no
   * other group sees them), with their event id and without the failure
   * headers. Each is removed from the DLQ only after the broker confirmed the
   * copy. All ids must exist, or nothing moves.
   */
  async redrive(group: string, channel?: string, ids?: readonly string[]): Promise<number> {
    return this.browse(group, async (held, ch) => {
      const matching = held.filter((entry) => channel === undefined || entry.channel === channel);
      let chosen: Held[];
      if (ids === undefined) chosen = matching;
      else {
        const byId = new Map(matching.map((entry) => [entry.deadLetter.id, entry]));
        // An id asked for twice is one message: publishing and acking it twice
        // would duplicate the event and close the channel (unknown delivery tag).
        chosen = [...new Set(ids)].map((id) => {
          const found = byId.get(id);
          if (!found) throw new DeadLetterNotFoundError(id, { group, channel });
          return found;
        });
      }
      if (chosen.length === 0 || !ch) return 0;
      const queue = this.options.names.queue(group);
      const returned: string[] = [];
      ch.on('return', (message) => returned.push(String(message.properties.messageId)));
      const confirms = chosen.map((entry) => {
        const out = toAmqp(
          {
            key: entry.deadLetter.message.key,
            headers: headersForRedrive(entry.deadLetter.message.headers),
            body: entry.deadLetter.message.body,
          },
          entry.channel,
          entry.type,
          AMQP_HEADER_NAMING,
          entry.messageId,
        );
        return new Promise<void>((resolve, reject) => {
          ch.publish(
            '',
            queue,
            out.content,
            { ...out.properties, mandatory: true },
            (error: unknown) => (error ? reject(error) : resolve()),
          );
        });
      });
      try {
        await withTimeout(
          Promise.all(confirms),
          this.options.publishTimeoutMs,
          () => new Error(`no confirm within ${this.options.publishTimeoutMs} ms`),
        );
      } catch (error) {
        throw new PublishError(
          `Redrive to queue "${queue}" was not confirmed: ${messageOf(error)}; the dead letters stay in the DLQ (some may have been delivered too)`,
          { cause: error, context: { group, queue } },
        );
      }
      if (returned.length > 0) {
        throw new PublishError(
          `Redrive to queue "${queue}" failed: the queue does not exist (subscribe the group first); the dead letters stay in the DLQ`,
          { context: { group, queue }, retryable: false },
        );
      }
      for (const entry of chosen) ch.ack(entry.message);
      return chosen.length;
    });
  }

  /**
   * Takes the DLQ's messages unacknowledged (until `enough` says so after a
   * message), runs `work`, gives back whatever was not acked. Opening a
   * channel is bounded by `connectTimeoutMs`, each `basic.get` by
   * `publishTimeoutMs`: a broker that stops answering fails the call.
   */
  private async browse<T>(
    group: string,
    work: (held: Held[], channel?: ConfirmChannel) => Promise<T>,
    enough?: (entry: Held) => boolean,
  ): Promise<T> {
    const dlq = this.options.names.deadLetter(group);
    const { connectTimeoutMs, publishTimeoutMs } = this.options;
    const model = await this.options.connection.get(connectTimeoutMs);
    if (
      !(await this.bounded(queueExists(model, dlq), connectTimeoutMs, `checking queue "${dlq}"`))
    ) {
      return work([]);
    }
    const opening = model.createConfirmChannel();
    let ch: ConfirmChannel;
    try {
      ch = await this.bounded(opening, connectTimeoutMs, 'opening a channel');
    } catch (error) {
      // Opened too late: nobody uses it.
      opening.then((late) => settleWithin(late.close())).catch(() => undefined);
      throw error;
    }
    ch.on('error', () => undefined);
    let open = true;
    ch.on('close', () => {
      open = false;
    });
    try {
      const held: Held[] = [];
      const seen = new Map<string, number>();
      while (held.length < this.options.maxBrowse) {
        const message = await this.bounded(
          ch.get(dlq, { noAck: false }),
          publishTimeoutMs,
          `basic.get from "${dlq}"`,
        );
        if (message === false) break;
        const entry = toHeld(message, group, seen);
        held.push(entry);
        if (enough?.(entry)) break;
      }
      return await work(held, ch);
    } finally {
      if (open) {
        try {
          ch.nackAll(true);
        } catch {
          // closing requeues them too
        }
        await settleWithin(ch.close());
      }
    }
  }

  private bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    return withTimeout(
      promise,
      ms,
      () =>
        new BrokerUnavailableError(`RabbitMQ did not answer within ${ms} ms (${what})`, {
          queue: what,
        }),
    );
  }
}

/**
 * `seen` counts the ids of this browse: two copies of one event (dead-lettered
 * by RabbitMQ twice, or a fallback id shared by identical messages) get
 * distinct ids, the second `<id>#2`, in queue order.
 */
function toHeld(message: GetMessage, group: string, seen: Map<string, number>): Held {
  const raw = (message.properties.headers ?? {}) as Record<string, unknown>;
  const incoming = fromAmqp(message, AMQP_HEADER_NAMING);
  const headers = incoming.message.headers;
  const channel =
    incoming.channel ?? headers[FailureHeaders.channel] ?? defaultChannelOf(incoming.type);
  const base =
    headerValue(raw[TransportHeaders.deadLetterId]) ??
    incoming.messageId ??
    createHash('sha256')
      .update(message.content)
      .update(JSON.stringify(headers))
      .digest('hex')
      .slice(0, 32);
  const copies = (seen.get(base) ?? 0) + 1;
  seen.set(base, copies);
  const id = copies === 1 ? base : `${base}#${copies}`;
  let infoHeaders: Record<string, string> = headers;
  if (headers[FailureHeaders.deadLetterReason] === undefined) {
    // Dead-lettered by RabbitMQ itself (delivery limit, TTL, length), not by edakit.
    // The latest death says why it is here: `x-first-death-*` of a message that
    // went through a retry queue is that queue's TTL expiry. RabbitMQ keeps
    // `x-death` newest first (3.13+ also sets `x-last-death-*`).
    const latest = latestDeath(raw['x-death']);
    const reason =
      headerValue(latest?.reason) ??
      headerValue(raw['x-last-death-reason']) ??
      headerValue(raw['x-first-death-reason']) ??
      'unknown';
    const queue =
      headerValue(latest?.queue) ??
      headerValue(raw['x-last-death-queue']) ??
      headerValue(raw['x-first-death-queue']) ??
      '';
    infoHeaders = {
      ...headers,
      [FailureHeaders.deadLetterReason]: `RABBITMQ_${reason.toUpperCase()}`,
      [FailureHeaders.errorMessage]: `dead-lettered by RabbitMQ (${reason}) from queue "${queue}"`,
      [FailureHeaders.origin]: queue,
      [FailureHeaders.group]: group,
      [FailureHeaders.channel]: channel,
    };
  }
  return {
    message,
    channel,
    type: incoming.type,
    messageId: incoming.messageId,
    deadLetter: { id, message: incoming.message, info: readDeadLetterInfo(infoHeaders) },
  };
}

function latestDeath(value: unknown): { reason?: unknown; queue?: unknown } | undefined {
  if (!Array.isArray(value)) return undefined;
  const first: unknown = value[0];
  return typeof first === 'object' && first !== null
    ? (first as { reason?: unknown; queue?: unknown })
    : undefined;
}

/** Passive declare on a throw-away channel: a 404 closes that channel only. */
async function queueExists(model: ChannelModel, queue: string): Promise<boolean> {
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  try {
    await channel.checkQueue(queue);
    await settleWithin(channel.close());
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 404) return false;
    throw error;
  }
}
