import type { ChannelModel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { Topology, type TopologySettings } from './topology';
import { TopologyNames } from './topology-names';

/** A ChannelModel whose channels record every queue declaration. */
function recordingModel() {
  const queues = new Map<string, Record<string, unknown>>();
  const channel = {
    on: () => channel,
    close: async () => undefined,
    assertExchange: async () => ({}),
    bindQueue: async () => ({}),
    assertQueue: async (name: string, options: { arguments?: Record<string, unknown> }) => {
      queues.set(name, options.arguments ?? {});
      return { queue: name, messageCount: 0, consumerCount: 0 };
    },
  };
  const model = { createChannel: async () => channel } as unknown as ChannelModel;
  return { model, queues };
}

const settings = (overrides: Partial<TopologySettings> = {}): TopologySettings => ({
  names: new TopologyNames('ex', 'ex.unroutable'),
  queueType: 'quorum',
  deliveryLimit: undefined,
  singleActiveConsumer: false,
  retryTiersMs: [100],
  unroutable: 'alternate',
  ...overrides,
});

describe('Topology queue types', () => {
  it('declares every queue with an explicit x-queue-type, so default_queue_type never decides', async () => {
    for (const queueType of ['quorum', 'classic'] as const) {
      const { model, queues } = recordingModel();
      await new Topology(settings({ queueType })).declareGroup(model, 'g', ['a.b']);
      expect(queues.get('g.dlq')?.['x-queue-type']).toBe('classic');
      expect(queues.get('ex.unroutable')?.['x-queue-type']).toBe('classic');
      expect(queues.get('g')?.['x-queue-type']).toBe(queueType);
      expect(queues.get('g.retry.100ms')?.['x-queue-type']).toBe(queueType);
      for (const [name, args] of queues) expect(args, name).toHaveProperty('x-queue-type');
    }
  });

  it('declares a lone DLQ as classic', async () => {
    const { model, queues } = recordingModel();
    await new Topology(settings()).declareDeadLetterQueue(model, 'g');
    expect(queues.get('g.dlq')).toEqual({ 'x-queue-type': 'classic' });
  });
});
