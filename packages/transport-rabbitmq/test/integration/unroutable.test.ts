import { createBus, ErrorCodes, on } from '@edakit/core';
import { conformanceContract } from '@edakit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { namespace, rawConnection, testTransport } from '../support/integration';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** An event no queue is bound for is never dropped silently. */
describe('unroutable events', () => {
  it('go to the alternate exchange and its queue by default', async () => {
    const exchange = `${namespace('ae')}.events`;
    const transport = testTransport({ exchange });
    cleanups.push(() => transport.close());
    const bus = createBus({ transport, source: '/it/unroutable', closeTransportOnStop: false });
    const contract = conformanceContract(namespace('nobody'));
    const sent = await bus.publish(contract, { key: 'k', seq: 1 });

    const raw = await rawConnection();
    cleanups.push(() => raw.close());
    const channel = await raw.createChannel();
    const message = await channel.get(`${exchange}.unroutable`, { noAck: true });
    expect(message).not.toBe(false);
    if (message === false) return;
    expect(message.properties.messageId).toBe(sent.id);
    expect(message.fields.routingKey).toBe(contract.type);
    expect(message.properties.headers?.cloudEvents_type).toBe(contract.type);
  });

  it("make publish reject in strict mode (unroutable: 'reject')", async () => {
    const exchange = `${namespace('strict')}.events`;
    const transport = testTransport({ exchange, unroutable: 'reject' });
    cleanups.push(() => transport.close());
    const bus = createBus({ transport, source: '/it/unroutable', closeTransportOnStop: false });
    const contract = conformanceContract(namespace('nobody'));
    const error = await bus.publish(contract, { key: 'k', seq: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.PUBLISH_FAILED, retryable: false });
    expect((error as Error).message).toMatch(/NO_ROUTE.*no queue is bound/);

    // Once a group is bound, the same publish goes through.
    const received: number[] = [];
    bus.subscribe({
      group: `${namespace('g')}`,
      handlers: [on(contract, (event) => void received.push(event.data.seq))],
    });
    await bus.start();
    await expect(bus.publish(contract, { key: 'k', seq: 2 })).resolves.toMatchObject({
      data: { seq: 2 },
    });
    await bus.stop();
  });
});
