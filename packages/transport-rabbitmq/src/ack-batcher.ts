import type { Channel, Message } from 'amqplib';

/**
 * Acknowledgements of one consumer channel, coalesced: acks requested in the
 * same turn of the event loop go out once, as one `basic.ack(multiple)` for
 * every requested delivery older than the oldest one still running, and
 * singly (by delivery tag) for the rest. On a quorum queue every ack frame is
 * a Raft command, so this halves the broker's work at high rates. A multiple
 * ack never spans a delivery that is still running, so a long handler never
 * holds up the acks of the deliveries that finished after it.
 *
 * Only deliveries not yet acknowledged are kept: memory follows the prefetch
 * window, never the number of deliveries settled behind a long handler.
 */
export class AckBatcher {
  /** Delivered and not yet settled, by delivery tag; tags grow, so this is oldest first. */
  private readonly running = new Map<number, Message>();
  /** Acks requested since the last flush. */
  private pending: Message[] = [];
  private scheduled = false;

  constructor(
    private readonly channel: Channel,
    private readonly isOpen: () => boolean,
  ) {}

  /** Deliveries not yet acked or nacked. */
  get unsettled(): number {
    return this.running.size + this.pending.length;
  }

  /** Deliveries this batcher holds a reference to: the unsettled ones, nothing else. */
  get retained(): number {
    return this.unsettled;
  }

  delivered(message: Message): void {
    this.running.set(message.fields.deliveryTag, message);
  }

  ack(message: Message): void {
    if (!this.running.delete(message.fields.deliveryTag)) return;
    this.pending.push(message);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sent at once: a requeue should not wait. */
  nack(message: Message, requeue: boolean): void {
    if (!this.running.delete(message.fields.deliveryTag)) return;
    this.send((channel) => channel.nack(message, false, requeue));
  }

  /** Sends every pending ack now (before a stop's nackAll, for instance). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    // Every delivery older than the oldest one running is settled (acked now or
    // before, or nacked): one multiple ack of the newest of those covers them all.
    const oldestRunning = this.oldestRunning();
    let covered: Message | undefined;
    const singles: Message[] = [];
    for (const message of pending) {
      if (message.fields.deliveryTag < oldestRunning) {
        if (!covered || message.fields.deliveryTag > covered.fields.deliveryTag) covered = message;
      } else {
        singles.push(message);
      }
    }
    if (covered) {
      const last = covered;
      this.send((channel) => channel.ack(last, true));
    }
    singles.sort((a, b) => a.fields.deliveryTag - b.fields.deliveryTag);
    for (const message of singles) this.send((channel) => channel.ack(message));
  }

  private oldestRunning(): number {
    for (const tag of this.running.keys()) return tag;
    return Number.POSITIVE_INFINITY;
  }

  /** Only on the channel that delivered, only while it is open: amqplib throws on a closed one. */
  private send(action: (channel: Channel) => void): void {
    if (!this.isOpen()) return;
    try {
      action(this.channel);
    } catch {
      // Closed between the check and the call: the broker requeues its deliveries.
    }
  }
}
