import { createBus, ErrorCodes } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { capturingLogger, namespace, testTransport, vhost } from '../support/integration';
import { brokerHost, brokerPort } from '../support/rabbitmq-broker';
import { blockedFrame, TcpProxy, unblockedFrame } from '../support/tcp-proxy';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/**
 * A resource alarm makes RabbitMQ send `connection.blocked` (here injected by
 * a proxy: a real alarm would block every client of the shared broker). Health
 * says so, and with `failFastWhenBlocked` publishes reject at once instead of
 * waiting out their timeout; `connection.unblocked` restores both.
 */
it('surfaces blocked and unblocked connections in health and fails fast while blocked', async () => {
  const proxy = await TcpProxy.start(brokerHost, brokerPort);
  cleanups.push(() => proxy.close());
  const logger = capturingLogger();
  const transport = testTransport({
    url: `amqp://guest:guest@127.0.0.1:${proxy.port}/${encodeURIComponent(vhost())}`,
    failFastWhenBlocked: true,
    logger,
  });
  cleanups.push(() => transport.close());
  const bus = createBus({ transport, source: '/it/blocked', closeTransportOnStop: false });
  const contract = conformanceContract(namespace('blocked'));
  await bus.publish(contract, { key: 'k', seq: 1 });
  expect((await transport.health()).status).toBe('up');

  proxy.inject(blockedFrame('low on memory'));
  const blocked = await waitFor(
    async () => {
      const health = await transport.health();
      return health.status === 'degraded' ? health : undefined;
    },
    { description: 'health to show the block' },
  );
  expect(blocked.details).toMatchObject({
    connections: { publish: { blocked: true, blockedReason: 'low on memory' } },
  });
  const started = Date.now();
  await expect(bus.publish(contract, { key: 'k', seq: 2 })).rejects.toMatchObject({
    code: ErrorCodes.PUBLISH_FAILED,
    message: expect.stringMatching(/blocking/),
  });
  expect(Date.now() - started).toBeLessThan(500);
  expect(logger.entries.some((entry) => entry.message.includes('blocked the connection'))).toBe(
    true,
  );

  proxy.inject(unblockedFrame());
  await waitFor(async () => (await transport.health()).status === 'up' || undefined, {
    description: 'health to show the unblock',
  });
  await expect(bus.publish(contract, { key: 'k', seq: 3 })).resolves.toBeDefined();
});
