import { type Bus, createBus, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import {
  capturingLogger,
  namespace,
  startHealthy,
  stopAll,
  testTransport,
  vhost,
} from '../support/integration';
import { brokerHost, brokerPort, rabbitmqctl } from '../support/rabbitmq-broker';

const buses: Bus[] = [];
afterEach(() => stopAll(buses));

/**
 * Health shows both connections (separate, named, not blocked), the running
 * consumers and the depth of every queue of the group; nothing in health,
 * logs or errors ever shows the password.
 */
it('reports connections, consumers and queue depths, and never the password', async () => {
  const ns = namespace('health');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const transport = testTransport({ connectionName: `health-${ns}` });
  const bus = createBus({ transport, source: '/it/health' });
  buses.push(bus);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  bus.subscribe({ group, concurrency: 1, handlers: [on(contract, () => gate)] });
  await startHealthy(bus);
  await bus.publishBatch(
    Array.from({ length: 5 }, (_, seq) => bus.prepare(contract, { key: 'same', seq })),
  );
  const health = await waitFor(
    async () => {
      const current = await transport.health();
      const queues = current.details.queues as Record<string, { messages: number }>;
      const consumers = current.details.consumers as Array<{ inFlight: number }>;
      // The broker counts the first event as delivered before the handler has it in hand.
      const holding = consumers[0]?.inFlight === 1;
      return holding && (queues[group]?.messages ?? 0) >= 4 ? current : undefined;
    },
    { description: 'four events waiting in the queue and the handler holding the first' },
  );
  release();
  expect(health.status).toBe('up');
  expect(health.details).toMatchObject({
    broker: `amqp://guest:***@${brokerHost}:${brokerPort}/${encodeURIComponent(vhost())}`,
    connections: {
      publish: { connected: true, blocked: false },
      consume: { connected: true, blocked: false },
    },
    consumers: [{ group, queue: group, running: true, inFlight: 1 }],
    queues: {
      [group]: { consumers: 1 },
      [`${group}.retry.100ms`]: { messages: 0 },
      [`${group}.retry.1000ms`]: { messages: 0 },
      [`${group}.dlq`]: { messages: 0 },
    },
  });
  // Publishing and consuming use separate connections, named by role.
  const connections = await rabbitmqctl('list_connections', '-p', vhost(), 'client_properties');
  expect(connections).toContain(`health-${ns}:publish`);
  expect(connections).toContain(`health-${ns}:consume`);
});

it('keeps credentials out of health, logs and errors', async () => {
  const password = 'n0t-the-Pa55word';
  const logger = capturingLogger();
  const transport = testTransport({
    url: `amqp://guest:${password}@${brokerHost}:${brokerPort}/${encodeURIComponent(vhost())}`,
    connectTimeoutMs: 1_500,
    logger,
  });
  const error = await transport.connect().catch((e: unknown) => e);
  const health = await transport.health();
  await transport.close();
  expect(error).toMatchObject({ code: 'EDAKIT_INVALID_STATE' });
  expect((error as Error).message).toMatch(/ACCESS_REFUSED|refused/i);
  const everything = JSON.stringify({
    message: (error as Error).message,
    context: (error as { context?: unknown }).context,
    health,
    logs: logger.entries,
  });
  expect(everything).not.toContain(password);
  expect(everything).toContain('guest:***@');
});
