import { EventEmitter } from 'node:events';
import type { GetMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { DeadLetterQueues } from './dead-letter-queue';
import type { ManagedConnection } from './managed-connection';
import { TopologyNames } from './topology-names';

function dead(tag: number, headers: Record<string, unknown> = {}): GetMessage {
  return {
    content: Buffer.from(JSON.stringify({ seq: tag })),
    fields: { deliveryTag: tag, redelivered: false, exchange: '', routingKey: 'g.dlq' },
    properties: {
      contentType: 'application/json',
      messageId: `id-${tag}`,
      type: 'gc.happened',
      headers: {
        cloudEvents_specversion: '1.0',
        cloudEvents_id: `id-${tag}`,
        cloudEvents_source: '/test',
        cloudEvents_type: 'gc.happened',
        ...headers,
      },
    },
  } as unknown as GetMessage;
}

/** A DLQ holding `messages`; `get` may hang. */
function dlqWith(messages: GetMessage[], options: { hangGet?: boolean } = {}) {
  const queue = [...messages];
  let gets = 0;
  const channel = Object.assign(new EventEmitter(), {
    get: () => {
      gets++;
      if (options.hangGet) return new Promise(() => undefined);
      return Promise.resolve(queue.shift() ?? false);
    },
    nackAll: () => undefined,
    close: async () => undefined,
  });
  const model = {
    createChannel: async () =>
      Object.assign(new EventEmitter(), {
        checkQueue: async () => ({}),
        close: async () => undefined,
      }),
    createConfirmChannel: async () => channel,
  };
  const queues = new DeadLetterQueues({
    connection: { get: async () => model } as unknown as ManagedConnection,
    names: new TopologyNames('ex', 'ex.unroutable'),
    connectTimeoutMs: 1_000,
    publishTimeoutMs: 200,
    maxBrowse: 1_000,
  });
  return { queues, gets: () => gets };
}

describe('DeadLetterQueues.list', () => {
  it('lists the reason of the latest death: a delivery limit after retries, not the retry TTL', async () => {
    const { queues } = dlqWith([
      dead(1, {
        'x-first-death-reason': 'expired',
        'x-first-death-queue': 'g.retry.1000ms',
        'x-death': [
          { reason: 'delivery_limit', queue: 'g', count: 1 },
          { reason: 'expired', queue: 'g.retry.1000ms', count: 2 },
        ],
      }),
    ]);
    const [letter] = await queues.list('g');
    expect(letter?.info.reason).toBe('RABBITMQ_DELIVERY_LIMIT');
    expect(letter?.info.origin).toBe('g');
  });

  it('stops reading the DLQ once `limit` dead letters match', async () => {
    const { queues, gets } = dlqWith(Array.from({ length: 50 }, (_, i) => dead(i + 1)));
    const letters = await queues.list('g', undefined, 3);
    expect(letters).toHaveLength(3);
    expect(gets()).toBe(3);
  });

  it('fails within its deadline when basic.get gets no answer', async () => {
    const { queues } = dlqWith([dead(1)], { hangGet: true });
    const outcome = await Promise.race([
      queues.list('g').then(
        () => 'listed',
        (error: unknown) => error,
      ),
      new Promise((resolve) => setTimeout(() => resolve('pending'), 2_000)),
    ]);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(/did not answer/);
  });
});
