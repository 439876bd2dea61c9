import { EventEmitter } from 'node:events';
import { ErrorCodes } from '@edakit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { RabbitMqTransport } from './rabbitmq-transport';

const outgoing = {
  channel: 'orders',
  type: 'order.placed',
  message: {
    key: 'o-1',
    headers: { cloudEvents_id: 'e-1', cloudEvents_type: 'order.placed' },
    body: Buffer.from('{}'),
  },
};

/** A connection whose declarations are counted and whose publishes are confirmed at once. */
function fakeModel(declare: () => Promise<unknown> = async () => ({})) {
  const confirmChannels: EventEmitter[] = [];
  let declared = 0;
  const model = {
    declared: () => declared,
    confirmChannels,
    createChannel: async () =>
      Object.assign(new EventEmitter(), {
        assertExchange: () => {
          declared++;
          return declare();
        },
        assertQueue: async () => ({}),
        bindQueue: async () => ({}),
        close: async () => undefined,
      }),
    createConfirmChannel: async () => {
      const channel = Object.assign(new EventEmitter(), {
        publish: (...args: unknown[]) => {
          const confirm = args[4] as (error: unknown) => void;
          setImmediate(() => confirm(null));
          return true;
        },
        close: async () => undefined,
      });
      confirmChannels.push(channel);
      return channel;
    },
  };
  return model;
}

const transports: RabbitMqTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((transport) => transport.close()));
});

function transportWith(get: () => Promise<unknown>): RabbitMqTransport {
  const transport = new RabbitMqTransport({
    url: 'amqp://guest:guest@127.0.0.1:1',
    publishTimeoutMs: 200,
    connectTimeoutMs: 10_000,
  });
  const internals = transport as unknown as {
    publishConnection: { get: () => Promise<unknown>; close: () => Promise<void> };
  };
  internals.publishConnection.get = get;
  internals.publishConnection.close = async () => undefined;
  transports.push(transport);
  return transport;
}

/** Settles `promise` or reports that it was still pending after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    return await Promise.race([promise, pending]);
  } finally {
    clearTimeout(timer);
  }
}

describe('RabbitMqTransport publish deadline', () => {
  it('rejects with a retryable EDAKIT_PUBLISH_FAILED within publishTimeoutMs while the broker is unreachable', async () => {
    const transport = transportWith(() => new Promise(() => undefined));
    const started = Date.now();
    const error = await within(
      transport.publish([outgoing]).then(
        () => undefined,
        (e: unknown) => e,
      ),
      2_000,
    );
    expect(error).toMatchObject({ code: ErrorCodes.PUBLISH_FAILED, retryable: true });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('rejects within publishTimeoutMs when declaring the exchanges hangs', async () => {
    const model = fakeModel(() => new Promise(() => undefined));
    const transport = transportWith(async () => model);
    const error = await within(
      transport.publish([outgoing]).then(
        () => undefined,
        (e: unknown) => e,
      ),
      2_000,
    );
    expect(error).toMatchObject({ code: ErrorCodes.PUBLISH_FAILED, retryable: true });
  });

  it('declares the exchanges again after a publish channel closed with 404 (exchange deleted)', async () => {
    const model = fakeModel();
    const transport = transportWith(async () => model);
    await transport.publish([outgoing]);
    const once = model.declared(); // the main and the alternate exchange
    expect(once).toBeGreaterThan(0);
    await transport.publish([outgoing]);
    expect(model.declared()).toBe(once);
    const channel = model.confirmChannels[0] as EventEmitter;
    channel.emit('error', Object.assign(new Error('NOT_FOUND - no exchange'), { code: 404 }));
    channel.emit('close');
    await transport.publish([outgoing]);
    expect(model.declared()).toBe(2 * once);
  });
});
