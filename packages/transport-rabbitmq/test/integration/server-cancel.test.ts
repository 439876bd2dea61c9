import { type Bus, createBus, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import {
  capturingLogger,
  consumerCounts,
  namespace,
  rawConnection,
  startHealthy,
  stopAll,
  testTransport,
} from '../support/integration';
import { rabbitmqctl } from '../support/rabbitmq-broker';

const buses: Bus[] = [];
afterEach(() => stopAll(buses));

/**
 * Deleting a group's queue makes RabbitMQ cancel its consumer (amqplib calls
 * the consumer with `null`). The transport declares the queue again and
 * consumes again, once: never a silent stall.
 */
it('declares again and resubscribes after a server-side consumer cancel', async () => {
  const ns = namespace('cancel');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const logger = capturingLogger();
  const seen: number[] = [];
  const bus = createBus({ transport: testTransport({ logger }), source: '/it/cancel' });
  buses.push(bus);
  bus.subscribe({ group, handlers: [on(contract, (event) => void seen.push(event.data.seq))] });
  await startHealthy(bus);
  await bus.publish(contract, { key: 'k', seq: 1 });
  await waitFor(() => seen.includes(1) || undefined, { description: 'the first event' });

  const raw = await rawConnection();
  const channel = await raw.createChannel();
  await channel.deleteQueue(group);
  await raw.close();

  await waitFor(
    () => logger.entries.some((entry) => entry.message.includes('resubscribed')) || undefined,
    {
      timeoutMs: 15_000,
      description: 'the consumer to resubscribe',
    },
  );
  await bus.publish(contract, { key: 'k', seq: 2 });
  await waitFor(() => seen.includes(2) || undefined, {
    timeoutMs: 15_000,
    description: 'an event after the queue came back',
  });
  expect(logger.entries.some((entry) => entry.message.includes('cancelled the consumer'))).toBe(
    true,
  );
  expect((await consumerCounts(rabbitmqctl)).get(group)).toBe(1);
});
