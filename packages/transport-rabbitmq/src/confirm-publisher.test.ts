import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ConfirmPublisher, type ConfirmPublisherOptions } from './confirm-publisher';
import type { ManagedConnection } from './managed-connection';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

interface Written {
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: { messageId: string };
  readonly confirm: (error: unknown) => void;
}

/** A confirm channel that records writes; the test confirms and returns by hand. */
function fakeChannel() {
  const written: Written[] = [];
  const channel = Object.assign(new EventEmitter(), {
    written,
    publish(
      exchange: string,
      routingKey: string,
      _content: Buffer,
      properties: { messageId: string },
      confirm: (error: unknown) => void,
    ): boolean {
      written.push({ exchange, routingKey, properties, confirm });
      return true;
    },
    close: async () => undefined,
  });
  return channel;
}

/** A publisher over `channel` on a connected, unblocked connection; `options` override the defaults. */
function publisherOn(
  channel: ReturnType<typeof fakeChannel>,
  options: Partial<ConfirmPublisherOptions> = {},
): ConfirmPublisher {
  const model = { createConfirmChannel: async () => channel };
  const connection = {
    get: async () => model,
    isBlocked: false,
    isConnected: true,
  } as unknown as ManagedConnection;
  return new ConfirmPublisher(connection, {
    timeoutMs: 5_000,
    maxInFlight: 100,
    failFastWhenBlocked: false,
    redact: (text) => text,
    logger: silent,
    ...options,
  });
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

describe('ConfirmPublisher basic.return', () => {
  it('credits a return to the publish with the same exchange and routing key, not just the same id', async () => {
    const channel = fakeChannel();
    const publisher = publisherOn(channel);
    const properties = { messageId: 'event-1' };
    const first = publisher.publish(
      { exchange: '', routingKey: 'a.retry.100ms', mandatory: true },
      Buffer.from('x'),
      properties,
    );
    const second = publisher.publish(
      { exchange: '', routingKey: 'b.dlq', mandatory: true },
      Buffer.from('x'),
      properties,
    );
    const firstResult = first.then(
      () => 'confirmed',
      (error: Error) => error.message,
    );
    const secondResult = second.then(
      () => 'confirmed',
      (error: Error) => error.message,
    );
    await until(() => channel.written.length === 2);
    // The broker returns the second (its queue is gone), then confirms both.
    channel.emit('return', {
      content: Buffer.from('x'),
      fields: { exchange: '', routingKey: 'b.dlq', replyCode: 312, replyText: 'NO_ROUTE' },
      properties: { messageId: 'event-1' },
    });
    for (const write of channel.written) write.confirm(null);
    expect(await firstResult).toBe('confirmed');
    expect(await secondResult).toMatch(/returned the message to queue "b\.dlq": 312 NO_ROUTE/);
    await publisher.close();
  });
});

describe('ConfirmPublisher waiting for a channel that does not open', () => {
  it('bounds the waiting publishes, rejects each by its deadline, and recovers once the channel opens', async () => {
    const channel = fakeChannel();
    // A blocked broker never answers channel.open: it opens when the test says so.
    let open: () => void = () => undefined;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const model = {
      createConfirmChannel: async () => {
        await opened;
        return channel;
      },
    };
    const connection = {
      get: async () => model,
      isBlocked: true,
      isConnected: true,
    } as unknown as ManagedConnection;
    const publisher = new ConfirmPublisher(connection, {
      timeoutMs: 200,
      maxInFlight: 100,
      maxQueued: 100,
      failFastWhenBlocked: false,
      redact: (text) => text,
      logger: silent,
    });
    const outcomes: Array<{ ms: number; error?: { code?: string; context?: object } }> = [];
    const all: Promise<void>[] = [];
    let maxQueued = 0;
    const started = Date.now();
    for (let round = 0; Date.now() - started < 1_000; round++) {
      for (let i = 0; i < 50; i++) {
        const at = Date.now();
        all.push(
          publisher
            .publish({ exchange: 'x', routingKey: 'r', mandatory: false }, Buffer.from('x'), {
              messageId: `m-${round}-${i}`,
            })
            .then(
              () => void outcomes.push({ ms: Date.now() - at }),
              (error) => void outcomes.push({ ms: Date.now() - at, error }),
            ),
        );
        maxQueued = Math.max(maxQueued, publisher.queued);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(all);
    const full = outcomes.filter((o) => o.error?.context && 'maxQueued' in o.error.context);
    const expired = outcomes.filter((o) => o.error && !full.includes(o));
    expect(outcomes.every((o) => o.error?.code === 'EDAKIT_PUBLISH_FAILED')).toBe(true);
    expect(maxQueued).toBeLessThanOrEqual(100);
    expect(full.length).toBeGreaterThan(0);
    expect(full[0]?.error).toMatchObject({
      name: 'PublishQueueFullError',
      retryable: true,
      context: { reason: 'queue-full', maxQueued: 100, blocked: true, exchange: 'x' },
    });
    expect(expired.length).toBeGreaterThan(0);
    expect(expired[0]?.error).toMatchObject({
      context: { reason: 'not-sent', blocked: true, eventId: expect.any(String) },
    });
    expect(Math.max(...expired.map((o) => o.ms))).toBeLessThan(200 + 300);
    expect(publisher.pending).toBe(0);
    expect(channel.written).toHaveLength(0);

    // The broker answers at last: new publishes go out on that channel.
    open();
    const late = publisher.publish(
      { exchange: 'x', routingKey: 'r', mandatory: false },
      Buffer.from('x'),
      { messageId: 'late' },
    );
    await until(() => channel.written.length === 1);
    channel.written[0]?.confirm(null);
    await expect(late).resolves.toBeUndefined();
    expect(publisher.queued).toBe(0);
    await publisher.close();
  });
});

describe('ConfirmPublisher.publishAll', () => {
  const target = { exchange: 'x', routingKey: 'r', mandatory: false };
  const items = (count: number) =>
    Array.from({ length: count }, (_, i) => ({
      target,
      content: Buffer.from('x'),
      properties: { messageId: `m-${i}` },
    }));

  it('writes a batch in order and resolves only once every message is confirmed', async () => {
    const channel = fakeChannel();
    const publisher = publisherOn(channel);
    let settled = false;
    const done = publisher.publishAll(items(90)).then(() => (settled = true));
    await until(() => channel.written.length === 90);
    expect(channel.written.map((write) => write.properties.messageId)).toEqual(
      items(90).map((item) => item.properties.messageId),
    );
    for (const write of channel.written.slice(0, 89)) write.confirm(null);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(settled).toBe(false);
    channel.written[89]?.confirm(null);
    await done;
    expect(publisher.pending).toBe(0);
    await publisher.close();
  });

  it('sends more than one write slice without waiting for confirms', async () => {
    const channel = fakeChannel();
    const publisher = publisherOn(channel, { maxInFlight: 1_000 });
    const done = publisher.publishAll(items(450));
    await until(() => channel.written.length === 450);
    expect(channel.written.map((write) => write.properties.messageId)).toEqual(
      items(450).map((item) => item.properties.messageId),
    );
    for (const write of channel.written) write.confirm(null);
    await expect(done).resolves.toBeUndefined();
    await publisher.close();
  });

  it('rejects with the first failure while the other messages still settle', async () => {
    const channel = fakeChannel();
    const publisher = publisherOn(channel);
    const done = publisher.publishAll(items(3));
    const outcome = done.then(
      () => 'confirmed',
      (error: Error) => error.message,
    );
    await until(() => channel.written.length === 3);
    channel.written[0]?.confirm(null);
    channel.written[1]?.confirm(new Error('message nacked'));
    expect(await outcome).toMatch(/refused \(basic\.nack\)/);
    expect(publisher.pending).toBe(1);
    channel.written[2]?.confirm(new Error('message nacked'));
    expect(publisher.pending).toBe(0);
    expect(publisher.failures).toBe(2);
    await publisher.close();
  });

  it('takes a batch whole or not at all', async () => {
    const channel = fakeChannel();
    const publisher = publisherOn(channel, { maxInFlight: 10, maxQueued: 5 });
    await expect(publisher.publishAll(items(6))).rejects.toMatchObject({
      name: 'PublishQueueFullError',
    });
    expect(publisher.pending).toBe(0);
    expect(channel.written).toHaveLength(0);
    await publisher.close();
  });
});
