import { messageOf } from '@edakit/core';
import type { Channel, ChannelModel } from 'amqplib';
import { settleWithin } from './backoff';
import { TopologyMismatchError } from './errors';
import type { QueueType, UnroutablePolicy } from './rabbitmq-transport-options';
import type { TopologyNames } from './topology-names';

export interface TopologySettings {
  readonly names: TopologyNames;
  readonly queueType: QueueType;
  readonly deliveryLimit: number | undefined;
  readonly singleActiveConsumer: boolean;
  readonly retryTiersMs: readonly number[];
  readonly unroutable: UnroutablePolicy;
}

type Arguments = Record<string, string | number | boolean>;

/** Queue arguments of a group's queue: dead letters to `<queue>.dlq` through the default exchange. */
export function mainQueueArguments(settings: TopologySettings, group: string): Arguments {
  const args: Arguments = {
    ...typeArguments(settings.queueType),
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': settings.names.deadLetter(group),
  };
  if (settings.deliveryLimit !== undefined) args['x-delivery-limit'] = settings.deliveryLimit;
  if (settings.singleActiveConsumer) args['x-single-active-consumer'] = true;
  return args;
}

/**
 * A retry tier: messages wait `tierMs` (queue TTL), then dead-letter through
 * the default exchange to the group's own queue, so no other group sees them.
 */
export function retryQueueArguments(
  settings: TopologySettings,
  group: string,
  tierMs: number,
): Arguments {
  return {
    ...typeArguments(settings.queueType),
    'x-message-ttl': tierMs,
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': settings.names.queue(group),
  };
}

/**
 * Quorum queues dead-letter at least once (the message stays until the target
 * confirmed it; needs `reject-publish` overflow), and never exist without a
 * dead-letter target.
 */
function typeArguments(queueType: QueueType): Arguments {
  return queueType === 'quorum'
    ? {
        'x-queue-type': 'quorum',
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      }
    : CLASSIC;
}

/**
 * Always explicit: without `x-queue-type` a vhost's or node's
 * `default_queue_type` (e.g. quorum) decides, and a quorum DLQ on RabbitMQ 4.x
 * counts every browse against its delivery limit (20) and drops dead letters.
 * The broker treats an absent type and `classic` as equivalent, so queues
 * declared before this stay valid.
 */
const CLASSIC: Arguments = { 'x-queue-type': 'classic' };

/** The DLQ and the unroutable queue: always classic (no delivery limit), whatever the default. */
export function classicQueueArguments(): Arguments {
  return { ...CLASSIC };
}

/**
 * Declares exchanges, queues and bindings. Every declaration is idempotent
 * (two instances may run it at once); a declaration the broker refuses with
 * 406 PRECONDITION_FAILED becomes a TopologyMismatchError and nothing is
 * deleted. Runs on a throw-away channel: a refused declaration closes it, not
 * the connection.
 */
export class Topology {
  constructor(readonly settings: TopologySettings) {}

  async declareExchanges(model: ChannelModel): Promise<void> {
    await this.onScratchChannel(model, (channel) => this.exchanges(channel));
  }

  /** The exchanges, then the group's DLQ, queue, retry tiers and bindings. */
  async declareGroup(model: ChannelModel, group: string, types: readonly string[]): Promise<void> {
    await this.onScratchChannel(model, async (channel) => {
      await this.exchanges(channel);
      const { names, retryTiersMs } = this.settings;
      await this.queue(channel, names.deadLetter(group), classicQueueArguments());
      await this.queue(channel, names.queue(group), mainQueueArguments(this.settings, group));
      for (const tier of retryTiersMs) {
        await this.queue(
          channel,
          names.retry(group, tier),
          retryQueueArguments(this.settings, group, tier),
        );
      }
      for (const type of new Set(types)) {
        await guard('binding', `${names.queue(group)} <- ${type}`, () =>
          channel.bindQueue(names.queue(group), names.exchange, type),
        );
      }
    });
  }

  /** The group's DLQ alone (for an operator tool that never consumed). */
  async declareDeadLetterQueue(model: ChannelModel, group: string): Promise<void> {
    await this.onScratchChannel(model, (channel) =>
      this.queue(channel, this.settings.names.deadLetter(group), classicQueueArguments()),
    );
  }

  private async exchanges(channel: Channel): Promise<void> {
    const { names, unroutable } = this.settings;
    if (unroutable === 'alternate') {
      await guard('exchange', names.alternateExchange, () =>
        channel.assertExchange(names.alternateExchange, 'fanout', { durable: true }),
      );
      await this.queue(channel, names.unroutableQueue, classicQueueArguments());
      await guard('binding', `${names.unroutableQueue} <- ${names.alternateExchange}`, () =>
        channel.bindQueue(names.unroutableQueue, names.alternateExchange, ''),
      );
    }
    await guard('exchange', names.exchange, () =>
      channel.assertExchange(names.exchange, 'topic', {
        durable: true,
        arguments:
          unroutable === 'alternate' ? { 'alternate-exchange': names.alternateExchange } : {},
      }),
    );
  }

  private async queue(channel: Channel, name: string, args: Arguments): Promise<void> {
    await guard('queue', name, () => channel.assertQueue(name, { durable: true, arguments: args }));
  }

  private async onScratchChannel(
    model: ChannelModel,
    work: (channel: Channel) => Promise<void>,
  ): Promise<void> {
    const channel = await model.createChannel();
    // A refused declaration closes the channel with an error event: expected here.
    channel.on('error', () => undefined);
    let failed = false;
    channel.on('close', () => {
      failed = true;
    });
    try {
      await work(channel);
    } finally {
      if (!failed) await settleWithin(channel.close());
    }
  }
}

async function guard<T>(
  kind: 'exchange' | 'queue' | 'binding',
  resource: string,
  declare: () => Promise<T>,
): Promise<T> {
  try {
    return await declare();
  } catch (error) {
    if ((error as { code?: unknown }).code === 406) {
      throw new TopologyMismatchError(kind, resource, brokerReason(messageOf(error)));
    }
    throw error;
  }
}

/** The broker's own words from an amqplib error: `PRECONDITION_FAILED - inequivalent arg ...`. */
function brokerReason(message: string): string {
  const quoted = /with message "([^"]*)"/.exec(message)?.[1];
  return quoted ?? message;
}
