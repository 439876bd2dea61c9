import { type Bus, createBus, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import {
  capturingLogger,
  namespace,
  rawConnection,
  startHealthy,
  stopAll,
  testTransport,
} from '../support/integration';

const buses: Bus[] = [];
afterEach(() => stopAll(buses));

/**
 * A retry to a tier queue someone deleted comes back from the broker
 * (mandatory publish). The original is not acknowledged; the consumer
 * re-declares its topology and the retry goes through. Nothing is lost.
 */
it('re-declares a deleted retry queue instead of losing the retry', async () => {
  const ns = namespace('noretryq');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const logger = capturingLogger();
  const attempts: number[] = [];
  const bus = createBus({ transport: testTransport({ logger }), source: '/it/noretryq' });
  buses.push(bus);
  bus.subscribe({
    group,
    retry: { immediate: 0, delayed: [100] },
    handlers: [
      on(contract, (_event, context) => {
        attempts.push(context.attempt);
        if (context.attempt === 1) throw new Error('first attempt fails');
      }),
    ],
  });
  await startHealthy(bus);
  const raw = await rawConnection();
  const channel = await raw.createChannel();
  await channel.deleteQueue(`${group}.retry.100ms`);
  await raw.close();

  await bus.publish(contract, { key: 'k', seq: 1 });
  await waitFor(() => attempts.includes(2) || undefined, {
    timeoutMs: 20_000,
    description: 'the retried attempt',
  });
  expect(attempts.filter((attempt) => attempt === 2)).toHaveLength(1);
  expect(logger.entries.some((entry) => JSON.stringify(entry.fields).includes('NO_ROUTE'))).toBe(
    true,
  );
});
