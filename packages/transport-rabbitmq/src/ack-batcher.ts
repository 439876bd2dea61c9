import type { Channel, Message } from 'amqplib';

const OPEN = 0;
const ACK = 1;
const SENT = 2;

interface Tracked {
  readonly message: Message;
  state: typeof OPEN | typeof ACK | typeof SENT;
}

/**
 * Acknowledgements of one consumer channel, coalesced: acks requested in the
 * same turn of the event loop go out once, as one `basic.ack(multiple)` for
 * the longest run of settled deliveries from the oldest, and singly for the
 * rest. On a quorum queue every ack frame is a Raft command, so this halves
 * the broker's work at high rates. A multiple ack only ever covers deliveries
 * that are settled: it stops at the oldest one still running.
 */
export class AckBatcher {
  private readonly queue: Tracked[] = [];
  private head = 0;
  private readonly byTag = new Map<number, Tracked>();
  private scheduled = false;

  constructor(
    private readonly channel: Channel,
    private readonly isOpen: () => boolean,
  ) {}

  /** Deliveries not yet acked or nacked. */
  get unsettled(): number {
    return this.byTag.size;
  }

  delivered(message: Message): void {
    const tracked: Tracked = { message, state: OPEN };
    this.queue.push(tracked);
    this.byTag.set(message.fields.deliveryTag, tracked);
  }

  ack(message: Message): void {
    const tracked = this.byTag.get(message.fields.deliveryTag);
    if (!tracked || tracked.state !== OPEN) return;
    tracked.state = ACK;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sent at once: a requeue should not wait. */
  nack(message: Message, requeue: boolean): void {
    const tracked = this.byTag.get(message.fields.deliveryTag);
    if (!tracked || tracked.state !== OPEN) return;
    tracked.state = SENT;
    this.byTag.delete(message.fields.deliveryTag);
    this.send((channel) => channel.nack(message, false, requeue));
  }

  /** Sends every pending ack now (before a stop's nackAll, for instance). */
  flush(): void {
    this.scheduled = false;
    let last: Tracked | undefined;
    while (this.head < this.queue.length) {
      const tracked = this.queue[this.head] as Tracked;
      if (tracked.state === OPEN) break;
      if (tracked.state === ACK) last = tracked;
      this.byTag.delete(tracked.message.fields.deliveryTag);
      this.head++;
    }
    if (this.head > 256 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (last) {
      const message = last.message;
      last.state = SENT;
      this.send((channel) => channel.ack(message, true));
    }
    for (let index = this.head; index < this.queue.length; index++) {
      const tracked = this.queue[index] as Tracked;
      if (tracked.state !== ACK) continue;
      tracked.state = SENT;
      this.byTag.delete(tracked.message.fields.deliveryTag);
      this.send((channel) => channel.ack(tracked.message));
    }
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
