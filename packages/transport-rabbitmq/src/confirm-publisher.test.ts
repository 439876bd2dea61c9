import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ConfirmPublisher } from './confirm-publisher';
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

function publisherOn(channel: ReturnType<typeof fakeChannel>): ConfirmPublisher {
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
