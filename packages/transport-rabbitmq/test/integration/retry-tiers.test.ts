import { type Bus, createBus, ErrorCodes, FailureHeaders, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { namespace, startHealthy, stopAll, testTransport } from '../support/integration';

const buses: Bus[] = [];
afterEach(() => stopAll(buses));

const SHORT = 200;
const LONG = 5_000;

/**
 * Tiers are separate TTL queues, so a short retry never waits behind a long
 * one (one queue with per-message TTLs would hold it until the long one
 * expired). After the last retry the event is in the DLQ with its history.
 */
it('a short retry is not held up by a long one; the last failure lands in the DLQ with its history', async () => {
  const ns = namespace('tiers');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const attempts = new Map<number, number[]>();
  const transport = testTransport({ retryTiersMs: [SHORT, LONG] });
  const bus = createBus({ transport, source: '/it/tiers' });
  buses.push(bus);
  bus.subscribe({
    group,
    retry: { immediate: 0, delayed: [SHORT, LONG] },
    handlers: [
      on(contract, (event) => {
        const list = attempts.get(event.data.seq) ?? [];
        list.push(Date.now());
        attempts.set(event.data.seq, list);
        // seq 1 always fails; seq 2 fails once.
        if (event.data.seq === 1 || list.length === 1) throw new Error(`failure ${list.length}`);
      }),
    ],
  });
  await startHealthy(bus);

  await bus.publish(contract, { key: 'long', seq: 1 });
  // Event 1 failed twice: it now waits in the long tier.
  await waitFor(() => (attempts.get(1)?.length ?? 0) >= 2 || undefined, {
    timeoutMs: 10_000,
    description: 'event 1 retried once',
  });
  await bus.publish(contract, { key: 'short', seq: 2 });
  await waitFor(() => (attempts.get(2)?.length ?? 0) >= 2 || undefined, {
    timeoutMs: 10_000,
    description: 'event 2 retried from the short tier',
  });
  const [first2 = 0, second2 = 0] = attempts.get(2) ?? [];
  expect(second2 - first2).toBeGreaterThanOrEqual(SHORT * 0.9);
  expect(second2 - first2).toBeLessThan(1_500);
  // Event 1 is still waiting in the long tier.
  expect(attempts.get(1)).toHaveLength(2);

  const [deadLetter] = await waitFor(
    async () => {
      const list = await transport.listDeadLetters({ group });
      return list.length > 0 ? list : undefined;
    },
    { timeoutMs: 15_000, description: 'event 1 in the DLQ' },
  );
  const [a1 = 0, a2 = 0, a3 = 0] = attempts.get(1) ?? [];
  expect(attempts.get(1)).toHaveLength(3);
  expect(a2 - a1).toBeGreaterThanOrEqual(SHORT * 0.9);
  expect(a3 - a2).toBeGreaterThanOrEqual(LONG * 0.9);
  expect(deadLetter?.info).toMatchObject({
    reason: ErrorCodes.RETRIES_EXHAUSTED,
    errorMessage: 'failure 3',
    errorClass: 'Error',
    attempts: 3,
    retries: 2,
    group,
    channel: contract.channel,
    origin: group,
  });
  const headers = deadLetter?.message.headers ?? {};
  expect(Date.parse(headers[FailureHeaders.firstFailureAt] ?? '')).toBeLessThan(
    Date.parse(headers[FailureHeaders.lastFailureAt] ?? ''),
  );
  // The count is edakit's own header, never x-death.
  expect(Object.keys(headers).some((name) => name.startsWith('x-'))).toBe(false);
  expect(attempts.get(2)).toHaveLength(2);
});
