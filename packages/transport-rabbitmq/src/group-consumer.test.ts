import { EventEmitter } from 'node:events';
import { type Delivery, PublishError, type SettleOutcome } from '@edakit/core';
import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AckBatcher } from './ack-batcher';
import type { ConfirmPublisher } from './confirm-publisher';
import { GroupConsumer } from './group-consumer';
import type { ManagedConnection } from './managed-connection';
import type { Topology } from './topology';
import { TopologyNames } from './topology-names';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A consumer channel that records acks and nacks. */
function fakeChannel() {
  const nacks: Array<{ tag: number; requeue: boolean }> = [];
  const acks: number[] = [];
  let closes = 0;
  let nackAlls = 0;
  const channel = Object.assign(new EventEmitter(), {
    nacks,
    acks,
    closes: () => closes,
    nackAlls: () => nackAlls,
    nackAll: () => {
      nackAlls++;
    },
    cancel: async () => ({}),
    ack: (message: ConsumeMessage) => void acks.push(message.fields.deliveryTag),
    nack: (message: ConsumeMessage, _all: boolean, requeue: boolean) =>
      void nacks.push({ tag: message.fields.deliveryTag, requeue }),
    close: async () => {
      closes++;
    },
  });
  return channel;
}

function message(tag: number, key = 'k'): ConsumeMessage {
  return {
    content: Buffer.from(JSON.stringify({ key, seq: tag })),
    fields: {
      deliveryTag: tag,
      redelivered: false,
      exchange: 'ex',
      routingKey: 'gc.happened',
      consumerTag: 'ctag',
    },
    properties: {
      contentType: 'application/json',
      headers: {
        cloudEvents_specversion: '1.0',
        cloudEvents_id: `id-${tag}`,
        cloudEvents_source: '/test',
        cloudEvents_type: 'gc.happened',
        cloudEvents_partitionkey: key,
      },
      messageId: `id-${tag}`,
      type: 'gc.happened',
    },
  } as unknown as ConsumeMessage;
}

function consumerWith(
  handle: (delivery: Delivery) => Promise<SettleOutcome>,
  publish: () => Promise<void>,
  extra: { stopTimeoutMs?: number; concurrency?: number } = {},
) {
  const channel = fakeChannel();
  const consumer = new GroupConsumer({
    subscription: {
      group: 'g',
      channels: ['gc'],
      types: ['gc.happened'],
      concurrency: extra.concurrency ?? 1,
      startFrom: 'latest',
      handle,
    },
    connection: {} as ManagedConnection,
    publisher: { publish } as unknown as ConfirmPublisher,
    topology: {
      settings: { names: new TopologyNames('ex', 'ex.unroutable'), retryTiersMs: [100] },
    } as unknown as Topology,
    prefetch: 10,
    connectTimeoutMs: 1_000,
    reconnectDelayMs: 10,
    maxReconnectDelayMs: 100,
    stopTimeoutMs: extra.stopTimeoutMs,
    redact: (text) => text,
    logger: silent,
  });
  const lane: { open: boolean; channel: typeof channel; id: number; acks: AckBatcher } = {
    channel,
    id: 1,
    open: true,
    acks: new AckBatcher(channel as never, () => lane.open),
  };
  const deliver = (m: ConsumeMessage | null) =>
    (consumer as unknown as { onMessage(l: unknown, m: ConsumeMessage | null): void }).onMessage(
      lane,
      m,
    );
  return { consumer, channel, lane, deliver };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

describe('GroupConsumer settle failures', () => {
  it('rejects (no requeue) a delivery whose retry can never be published, so its DLQ takes it', async () => {
    const tooLarge = new PublishError('headers over 64 KiB', { retryable: false });
    const { channel, deliver } = consumerWith(
      async () => ({ type: 'retry', delayMs: 100, headers: {} }),
      () => Promise.reject(tooLarge),
    );
    deliver(message(1));
    await until(() => channel.nacks.length === 1);
    expect(channel.nacks).toEqual([{ tag: 1, requeue: false }]);
  });

  it('requeues a delivery whose dead letter failed for a retryable reason', async () => {
    const timeout = new PublishError('no confirm within 5000 ms');
    const { channel, deliver } = consumerWith(
      async () => ({ type: 'deadLetter', headers: {} }),
      () => Promise.reject(timeout),
    );
    deliver(message(1));
    await until(() => channel.nacks.length === 1);
    expect(channel.nacks).toEqual([{ tag: 1, requeue: true }]);
  });

  it('requeues when the target queue is gone (a return): consuming again re-declares it', async () => {
    const returned = new PublishError('returned', {
      retryable: false,
      context: { replyCode: 312 },
    });
    const { channel, deliver } = consumerWith(
      async () => ({ type: 'retry', delayMs: 100, headers: {} }),
      () => Promise.reject(returned),
    );
    deliver(message(1));
    await until(() => channel.nacks.length === 1);
    expect(channel.nacks).toEqual([{ tag: 1, requeue: true }]);
  });
});

describe('GroupConsumer server-side cancel', () => {
  it('starts no buffered delivery of the cancelled channel', async () => {
    const started: string[] = [];
    let finish: (() => void) | undefined;
    const { channel, lane, deliver } = consumerWith(
      (delivery) => {
        started.push(String(delivery.message.key));
        return new Promise((resolve) => {
          finish = () => resolve({ type: 'ack' });
        });
      },
      () => Promise.resolve(),
    );
    deliver(message(1));
    deliver(message(2)); // same key: buffered behind the first
    await until(() => started.length === 1);
    deliver(null); // the broker cancels the consumer
    expect(lane.open).toBe(false);
    expect(channel.closes()).toBe(1);
    finish?.();
    await new Promise((r) => setTimeout(r, 50));
    expect(started).toHaveLength(1);
    // Nothing is settled on the closing channel: the broker requeues both.
    expect(channel.acks).toEqual([]);
  });
});

describe('GroupConsumer stop deadline', () => {
  it('stops after stopTimeoutMs with a stuck handler, closing the channel so the broker requeues', async () => {
    const started: string[] = [];
    const { consumer, channel, lane, deliver } = consumerWith(
      (delivery) => {
        started.push(String(delivery.message.key));
        return new Promise(() => undefined); // never settles
      },
      () => Promise.resolve(),
      { stopTimeoutMs: 100 },
    );
    (consumer as unknown as { lane: typeof lane }).lane = Object.assign(lane, { consumerTag: 'c' });
    deliver(message(1));
    await until(() => started.length === 1);
    const outcome = await Promise.race([
      consumer.stop().then(() => 'stopped'),
      new Promise((resolve) => setTimeout(() => resolve('pending'), 2_000)),
    ]);
    expect(outcome).toBe('stopped');
    expect(channel.nackAlls()).toBe(1);
    expect(channel.closes()).toBe(1);
    expect(channel.acks).toEqual([]);
  });
});

describe('GroupConsumer per-key order on a requeue', () => {
  it('requeues the buffered deliveries of a released key after it, in order, and runs none of them', async () => {
    const started: number[] = [];
    const { channel, deliver } = consumerWith(
      async (delivery) => {
        const seq = (JSON.parse(Buffer.from(delivery.message.body).toString()) as { seq: number })
          .seq;
        started.push(seq);
        if (seq === 1) throw new Error('handler blew up'); // becomes a release
        return { type: 'ack' };
      },
      () => Promise.resolve(),
    );
    deliver(message(1, 'k'));
    deliver(message(2, 'k')); // same key: buffered behind the first
    deliver(message(3, 'other'));
    deliver(message(4, 'k'));
    await until(() => channel.acks.length > 0 || started.includes(3));
    await new Promise((r) => setTimeout(r, 50));
    expect(channel.nacks).toEqual([
      { tag: 1, requeue: true },
      { tag: 2, requeue: true },
      { tag: 4, requeue: true },
    ]);
    expect(started).toEqual([1, 3]);
  });

  it("requeues the key's buffered deliveries after a failed settle too", async () => {
    const started: number[] = [];
    const { channel, deliver } = consumerWith(
      async (delivery) => {
        started.push(
          (JSON.parse(Buffer.from(delivery.message.body).toString()) as { seq: number }).seq,
        );
        return { type: 'retry', delayMs: 100, headers: {} };
      },
      () => Promise.reject(new PublishError('no confirm within 5000 ms')),
    );
    deliver(message(1, 'k'));
    deliver(message(2, 'k'));
    await until(() => channel.nacks.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(channel.nacks).toEqual([
      { tag: 1, requeue: true },
      { tag: 2, requeue: true },
    ]);
    expect(started).toEqual([1]);
  });
});
