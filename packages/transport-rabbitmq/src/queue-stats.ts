import type { Channel, ChannelModel } from 'amqplib';
import { settleWithin, withTimeout } from './backoff';

/** Depth and consumers of one queue, as `queue.declare(passive)` reports them. */
export interface QueueStats {
  readonly messages: number;
  readonly consumers: number;
}

/**
 * Reads each queue with a passive declare. A missing queue (404) closes the
 * channel it was asked on, so the next one gets a fresh channel; it is
 * reported as `missing`.
 */
export async function queueStats(
  model: ChannelModel,
  queues: readonly string[],
  timeoutMs: number,
): Promise<Record<string, QueueStats | 'missing'>> {
  const stats: Record<string, QueueStats | 'missing'> = {};
  let channel: Channel | undefined;
  const fresh = async (): Promise<Channel> => {
    const created = await model.createChannel();
    created.on('error', () => undefined);
    return created;
  };
  try {
    for (const queue of queues) {
      channel ??= await fresh();
      try {
        const reply = await withTimeout(
          channel.checkQueue(queue),
          timeoutMs,
          () => new Error(`no answer about queue "${queue}" within ${timeoutMs} ms`),
        );
        stats[queue] = { messages: reply.messageCount, consumers: reply.consumerCount };
      } catch (error) {
        if ((error as { code?: unknown }).code !== 404) throw error;
        stats[queue] = 'missing';
        channel = undefined;
      }
    }
  } finally {
    if (channel) await settleWithin(channel.close());
  }
  return stats;
}
