import type { WireMessage } from '../codec/wire-message';
import { readDeadLetterInfo } from '../dead-letter/dead-letter-info';
import { headersForRedrive } from '../dead-letter/failure-headers';
import { DeadLetterNotFoundError } from '../errors/handling-errors';
import { KeyedQueue } from '../scheduling/keyed-queue';
import type { DeadLetter } from '../transport/dead-letter-admin';
import type { SettleOutcome } from '../transport/settle-outcome';
import type { OutgoingMessage } from '../transport/transport';

interface QueuedMessage {
  readonly channel: string;
  readonly type: string;
  readonly message: WireMessage;
}

/** One member of a group: takes deliveries up to its concurrency. */
export interface MemberConsumer {
  readonly concurrency: number;
  inFlight: number;
  stopping: boolean;
  deliver(channel: string, message: WireMessage): Promise<SettleOutcome>;
}

interface GroupState {
  readonly name: string;
  readonly channels: Set<string>;
  /** Types bound (routing 'type'); empty = every type of the channels. */
  readonly types: Set<string>;
  readonly queue: KeyedQueue<QueuedMessage>;
  readonly members: MemberConsumer[];
  readonly deadLetters: Map<string, DeadLetter>;
  next: number;
}

export interface MemoryBrokerOptions {
  /** Messages kept per channel for groups that start from the earliest. Default 100 000. */
  readonly retention?: number;
  /**
   * What a group receives: only the types it handles, as RabbitMQ bindings do
   * (default), or every type on its channels, as a Kafka topic does.
   */
  readonly routing?: 'type' | 'channel';
}

/**
 * The in-process broker behind InMemoryTransport. Several transports sharing
 * one broker behave like services sharing a real broker: each group gets every
 * event once, members of a group compete, per-key order holds.
 */
export class MemoryBroker {
  private readonly logs = new Map<string, QueuedMessage[]>();
  private readonly groups = new Map<string, GroupState>();
  private readonly retention: number;
  private readonly routeByType: boolean;
  private deadLetterCounter = 0;

  constructor(options: MemoryBrokerOptions = {}) {
    this.retention = options.retention ?? 100_000;
    this.routeByType = (options.routing ?? 'type') === 'type';
  }

  publish(messages: readonly OutgoingMessage[]): void {
    for (const { channel, type, message } of messages) {
      const entry: QueuedMessage = { channel, type, message };
      const log = this.logs.get(channel) ?? [];
      log.push(entry);
      // Trim in bulk: splicing one message off the front per publish is O(n) each time.
      if (log.length > this.retention + Math.max(1024, this.retention / 8)) {
        log.splice(0, log.length - this.retention);
      }
      this.logs.set(channel, log);
      for (const group of this.groups.values()) {
        if (accepts(group, entry)) group.queue.push(message.key, entry);
      }
    }
    for (const group of this.groups.values()) this.dispatch(group);
  }

  join(
    groupName: string,
    channels: readonly string[],
    types: readonly string[],
    startFrom: 'latest' | 'earliest',
    member: MemberConsumer,
  ): void {
    let group = this.groups.get(groupName);
    if (!group) {
      group = {
        name: groupName,
        channels: new Set(),
        types: new Set(),
        queue: new KeyedQueue(),
        members: [],
        deadLetters: new Map(),
        next: 0,
      };
      this.groups.set(groupName, group);
      for (const channel of channels) group.channels.add(channel);
      if (this.routeByType) for (const type of types) group.types.add(type);
      if (startFrom === 'earliest') {
        for (const channel of channels) {
          const log = this.logs.get(channel) ?? [];
          for (const entry of log.slice(Math.max(0, log.length - this.retention))) {
            if (accepts(group, entry)) group.queue.push(entry.message.key, entry);
          }
        }
      }
    } else {
      for (const channel of channels) group.channels.add(channel);
      if (this.routeByType) for (const type of types) group.types.add(type);
    }
    group.members.push(member);
    this.dispatch(group);
  }

  leave(groupName: string, member: MemberConsumer): void {
    const group = this.groups.get(groupName);
    if (!group) return;
    const index = group.members.indexOf(member);
    if (index >= 0) group.members.splice(index, 1);
    this.dispatch(group);
  }

  /** Hands out ready messages to members with spare capacity, round-robin. */
  private dispatch(group: GroupState): void {
    while (group.queue.size > 0) {
      const member = this.nextMember(group);
      if (!member) return;
      const taken = group.queue.take();
      if (!taken) return;
      member.inFlight++;
      const { key, item } = taken;
      member.deliver(item.channel, item.message).then(
        (outcome) => this.settle(group, member, key, item, outcome),
        () => this.settle(group, member, key, item, { type: 'release' }),
      );
    }
  }

  private nextMember(group: GroupState): MemberConsumer | undefined {
    for (let i = 0; i < group.members.length; i++) {
      const member = group.members[(group.next + i) % group.members.length] as MemberConsumer;
      if (!member.stopping && member.inFlight < member.concurrency) {
        group.next = (group.next + i + 1) % group.members.length;
        return member;
      }
    }
    return undefined;
  }

  private settle(
    group: GroupState,
    member: MemberConsumer,
    key: string,
    item: QueuedMessage,
    outcome: SettleOutcome,
  ): void {
    member.inFlight--;
    switch (outcome.type) {
      case 'ack':
        group.queue.done(key);
        break;
      case 'release':
        group.queue.putBack(key, item);
        break;
      case 'retry': {
        group.queue.done(key);
        const retried: QueuedMessage = {
          ...item,
          message: { ...item.message, headers: outcome.headers },
        };
        const timer = setTimeout(() => {
          group.queue.push(retried.message.key, retried);
          this.dispatch(group);
        }, outcome.delayMs);
        timer.unref();
        break;
      }
      case 'deadLetter': {
        group.queue.done(key);
        const id = `dl-${++this.deadLetterCounter}`;
        const message = { ...item.message, headers: outcome.headers };
        group.deadLetters.set(id, { id, message, info: readDeadLetterInfo(outcome.headers) });
        break;
      }
    }
    this.dispatch(group);
  }

  deadLetters(groupName: string, channel?: string): DeadLetter[] {
    const group = this.groups.get(groupName);
    if (!group) return [];
    return [...group.deadLetters.values()].filter(
      (deadLetter) => channel === undefined || deadLetter.info.channel === channel,
    );
  }

  /** Sends dead letters back to their group only, without the failure headers. */
  redrive(groupName: string, ids: readonly string[]): number {
    const group = this.groups.get(groupName);
    // Check every id first: a redrive moves all it was asked to, or nothing.
    const missing = ids.find((id) => !group?.deadLetters.has(id));
    if (missing !== undefined) throw new DeadLetterNotFoundError(missing, { group: groupName });
    if (!group) return 0;
    let count = 0;
    for (const id of ids) {
      const deadLetter = group.deadLetters.get(id) as DeadLetter;
      group.deadLetters.delete(id);
      const message = {
        ...deadLetter.message,
        headers: headersForRedrive(deadLetter.message.headers),
      };
      const channel = deadLetter.info.channel ?? [...group.channels][0] ?? '';
      group.queue.push(message.key, { channel, type: '', message });
      count++;
    }
    this.dispatch(group);
    return count;
  }

  /** Queue figures per group, for health and tests. */
  stats(): Record<
    string,
    { queued: number; inFlight: number; deadLetters: number; members: number }
  > {
    const stats: Record<
      string,
      { queued: number; inFlight: number; deadLetters: number; members: number }
    > = {};
    for (const group of this.groups.values()) {
      stats[group.name] = {
        queued: group.queue.size,
        inFlight: group.queue.inFlight,
        deadLetters: group.deadLetters.size,
        members: group.members.length,
      };
    }
    return stats;
  }
}

function accepts(group: GroupState, entry: QueuedMessage): boolean {
  return (
    group.channels.has(entry.channel) && (group.types.size === 0 || group.types.has(entry.type))
  );
}
