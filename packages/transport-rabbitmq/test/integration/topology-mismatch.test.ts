import { createBus, ErrorCodes, on } from '@edakit/core';
import { conformanceContract } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { TopologyMismatchError } from '../../src/index';
import { namespace, rawConnection, testTransport } from '../support/integration';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/**
 * A queue or exchange that already exists with other settings is a 406 from
 * the broker. The transport reports which one and why, with a typed error,
 * and deletes nothing: the existing queue keeps its messages.
 */
it('reports a topology mismatch clearly and deletes nothing', async () => {
  const ns = namespace('mismatch');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const raw = await rawConnection();
  cleanups.push(() => raw.close());
  const channel = await raw.createChannel();
  // An old classic queue for the group, with a message in it.
  await channel.assertQueue(group, { durable: true });
  channel.sendToQueue(group, Buffer.from('precious'), { persistent: true });

  const transport = testTransport();
  cleanups.push(() => transport.close());
  const bus = createBus({ transport, source: '/it/mismatch', closeTransportOnStop: false });
  bus.subscribe({ group, handlers: [on(contract, () => undefined)] });
  const error = await bus.start().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TopologyMismatchError);
  expect(error).toMatchObject({ code: ErrorCodes.INVALID_OPTIONS, resource: group });
  expect((error as Error).message).toContain(`queue "${group}"`);
  expect((error as Error).message).toMatch(/inequivalent arg/);
  expect((error as Error).message).toMatch(/deleted nothing/);
  const queue = await channel.checkQueue(group);
  expect(queue.messageCount).toBe(1);

  // An exchange of another type under the transport's exchange name.
  const exchange = `${ns}.events`;
  await channel.assertExchange(exchange, 'direct', { durable: true });
  const other = testTransport({ exchange });
  cleanups.push(() => other.close());
  await expect(other.connect()).rejects.toMatchObject({
    code: ErrorCodes.INVALID_OPTIONS,
    resource: exchange,
  });
  await channel.checkExchange(exchange);
  // The refused declaration closed a scratch channel, not the connection.
  expect((await other.health()).details).toMatchObject({
    connections: { publish: { connected: true } },
  });
});
