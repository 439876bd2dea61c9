import { createBus, ErrorCodes } from '@edakit/core';
import { conformanceContract } from '@edakit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { RabbitMqTransport } from '../../src/index';
import { namespace, rawConnection, testTransport, vhost } from '../support/integration';
import { brokerHost, brokerPort } from '../support/rabbitmq-broker';
import { TcpProxy } from '../support/tcp-proxy';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function viaProxy(options: { publishTimeoutMs: number }) {
  const proxy = await TcpProxy.start(brokerHost, brokerPort);
  cleanups.push(() => proxy.close());
  const transport = testTransport({
    url: `amqp://guest:guest@127.0.0.1:${proxy.port}/${encodeURIComponent(vhost())}`,
    exchange: `${namespace('ex')}.events`,
    ...options,
  });
  cleanups.push(() => transport.close());
  await transport.connect();
  return { proxy, transport };
}

function prepared(transport: RabbitMqTransport) {
  const contract = conformanceContract(namespace('pub'));
  const bus = createBus({ transport, source: '/it/publish', closeTransportOnStop: false });
  return { bus, contract };
}

/** One confirmed publish first, so the publisher channel is open before the fault. */
async function warmUp(transport: RabbitMqTransport) {
  const ready = prepared(transport);
  await ready.bus.publish(ready.contract, { key: 'warm', seq: 0 });
  return ready;
}

/** `publish` resolves only on the broker's confirm; every other ending is a typed rejection. */
describe('publish rejects, typed, instead of hanging', () => {
  it('when the broker does not confirm in time', async () => {
    const { proxy, transport } = await viaProxy({ publishTimeoutMs: 500 });
    const { bus, contract } = await warmUp(transport);
    proxy.freeze();
    const started = Date.now();
    const error = await bus.publish(contract, { key: 'k', seq: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.PUBLISH_FAILED, retryable: true });
    expect((error as Error).message).toMatch(/within 500 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('when the connection is lost before the confirm', async () => {
    const { proxy, transport } = await viaProxy({ publishTimeoutMs: 10_000 });
    const { bus, contract } = await warmUp(transport);
    proxy.freeze();
    const started = Date.now();
    const publishing = bus.publish(contract, { key: 'k', seq: 1 }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 200));
    proxy.cut();
    const error = await publishing;
    expect(error).toMatchObject({ code: ErrorCodes.PUBLISH_FAILED });
    expect((error as Error).message).toMatch(/before its channel closed|may or may not/);
    expect(Date.now() - started).toBeLessThan(5_000);
    // The next publish reconnects.
    proxy.thaw();
    await expect(bus.publish(contract, { key: 'k', seq: 2 })).resolves.toMatchObject({
      type: contract.type,
    });
  });

  it('when the broker nacks (a full queue with reject-publish overflow)', async () => {
    const exchange = `${namespace('ex')}.events`;
    const transport = testTransport({ exchange });
    cleanups.push(() => transport.close());
    await transport.connect();
    const { bus, contract } = prepared(transport);
    const raw = await rawConnection();
    cleanups.push(() => raw.close());
    const channel = await raw.createChannel();
    const full = namespace('full');
    await channel.assertQueue(full, {
      durable: true,
      arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
    });
    await channel.bindQueue(full, exchange, contract.type);
    const error = await bus.publish(contract, { key: 'k', seq: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.PUBLISH_FAILED });
    expect((error as Error).message).toMatch(/basic\.nack/);
  });

  it('when the headers exceed the 64 KiB AMQP table, and the channel stays usable', async () => {
    const transport = testTransport({ exchange: `${namespace('ex')}.events` });
    cleanups.push(() => transport.close());
    const { bus, contract } = await warmUp(transport);
    const { outgoing } = bus.prepare(contract, { key: 'k', seq: 1 });
    const huge = {
      ...outgoing,
      message: {
        ...outgoing.message,
        headers: { ...outgoing.message.headers, big: 'h'.repeat(70_000) },
      },
    };
    await expect(transport.publish([huge])).rejects.toMatchObject({
      code: ErrorCodes.PUBLISH_FAILED,
      retryable: false,
      message: expect.stringMatching(/before sending/),
    });
    await expect(bus.publish(contract, { key: 'k', seq: 2 })).resolves.toBeDefined();
  });

  it('when the broker cannot be reached at all', async () => {
    const transport = testTransport({
      url: 'amqp://guest:guest@127.0.0.1:1/none',
      connectTimeoutMs: 300,
      publishTimeoutMs: 300,
    });
    cleanups.push(() => transport.close());
    await expect(transport.connect()).rejects.toMatchObject({
      code: ErrorCodes.INVALID_STATE,
      retryable: true,
    });
  });
});
