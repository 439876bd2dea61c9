import { type ContentMode, resolveContentMode } from '../codec/wire-message';
import { TransportClosedError } from '../errors/handling-errors';
import { InvalidOptionsError } from '../errors/usage-errors';
import type {
  DeadLetter,
  DeadLetterAdmin,
  DeadLetterQuery,
  RedriveRequest,
} from '../transport/dead-letter-admin';
import type { SettleOutcome } from '../transport/settle-outcome';
import type {
  BacklogFigure,
  OutgoingMessage,
  Transport,
  TransportConsumer,
  TransportHealth,
  TransportSubscription,
} from '../transport/transport';
import { type MemberConsumer, MemoryBroker } from './memory-broker';

export interface InMemoryTransportOptions {
  /** Share one broker between transports to model several services or processes. */
  readonly broker?: MemoryBroker;
  /** CloudEvents content mode of what the bus publishes here; default `binary`. */
  readonly contentMode?: ContentMode;
}

/**
 * A complete transport in process memory: for the embedded mode, demos and
 * tests. It passes the same conformance suite as the Kafka and RabbitMQ ones.
 */
export class InMemoryTransport implements Transport, DeadLetterAdmin {
  readonly name = 'memory';
  readonly broker: MemoryBroker;
  readonly contentMode: ContentMode;
  private readonly members = new Set<{
    group: string;
    member: MemberConsumer;
    stop: () => Promise<void>;
  }>();
  /** Groups this transport consumed for, reported in health even after their consumer stopped. */
  private readonly groups = new Set<string>();
  private closed = false;

  constructor(options: InMemoryTransportOptions = {}) {
    this.broker = options.broker ?? new MemoryBroker();
    this.contentMode = resolveContentMode(options.contentMode, 'InMemoryTransport');
  }

  async connect(): Promise<void> {
    this.assertOpen();
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    this.assertOpen();
    for (const outgoing of messages) {
      if (typeof outgoing.channel !== 'string' || outgoing.channel === '') {
        throw new InvalidOptionsError('Every outgoing message needs a channel');
      }
    }
    this.broker.publish(messages);
  }

  async subscribe(subscription: TransportSubscription): Promise<TransportConsumer> {
    this.assertOpen();
    const inFlight = new Set<Promise<SettleOutcome>>();
    const member: MemberConsumer = {
      concurrency: subscription.concurrency,
      inFlight: 0,
      stopping: false,
      deliver: (channel, message) => {
        const handled = subscription.handle({
          message,
          channel,
          origin: `${channel}/${subscription.group}`,
        });
        inFlight.add(handled);
        void handled.finally(() => inFlight.delete(handled));
        return handled;
      },
    };
    const entry = {
      group: subscription.group,
      member,
      stop: async () => {
        member.stopping = true;
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        // Let the broker settle the last outcomes before the member leaves.
        await new Promise((resolve) => setImmediate(resolve));
        this.broker.leave(subscription.group, member);
        this.members.delete(entry);
      },
    };
    this.members.add(entry);
    this.groups.add(subscription.group);
    this.broker.join(
      subscription.group,
      subscription.channels,
      subscription.types,
      subscription.startFrom,
      member,
    );
    return { stop: entry.stop };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.members].map((entry) => entry.stop()));
  }

  async health(): Promise<TransportHealth> {
    const groups = this.broker.stats();
    const backlog: BacklogFigure[] = [];
    for (const group of this.groups) {
      const figures = groups[group];
      if (figures === undefined) continue;
      backlog.push(
        { kind: 'queue', group, name: group, messages: figures.queued, role: 'work' },
        {
          kind: 'queue',
          group,
          name: `${group}.dlq`,
          messages: figures.deadLetters,
          role: 'dead-letter',
        },
      );
    }
    return {
      status: this.closed ? 'down' : 'up',
      details: { groups },
      consumers: [...this.members].map(({ group, member }) => ({
        group,
        running: !member.stopping,
      })),
      backlog,
    };
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const all = this.broker.deadLetters(query.group, query.channel);
    return query.limit === undefined ? all : all.slice(0, query.limit);
  }

  async redriveDeadLetters(request: RedriveRequest): Promise<number> {
    this.assertOpen();
    const ids =
      request.ids ?? (await this.listDeadLetters(request)).map((deadLetter) => deadLetter.id);
    return this.broker.redrive(request.group, ids);
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportClosedError(this.name);
  }
}
