import { createBus, EdakitError, ErrorCodes } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { namespace, sleep, testTransport } from '../support/integration';
import { raiseMemoryAlarm } from '../support/rabbitmq-broker';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const MAX_QUEUED = 500;
const TIMEOUT_MS = 2_000;
const FLOOD_MS = 6_000;

interface Outcome {
  readonly ms: number;
  readonly error?: unknown;
}

/**
 * A real resource alarm (memory watermark near zero, node-wide, a few
 * seconds): RabbitMQ blocks the publishing connection and stops reading it,
 * so the publish in flight is never confirmed and no new channel opens. With
 * `failFastWhenBlocked: false` publishes wait for a channel, but never without
 * bound: each has its deadline, and at most `maxQueued` wait; beyond that a
 * publish rejects at once with a typed error (EDAKIT_PUBLISH_FAILED, reason
 * `queue-full`). Once the alarm clears, publishing works again.
 */
it('bounds the publishes waiting for a channel while a resource alarm blocks the broker', async () => {
  const transport = testTransport({
    failFastWhenBlocked: false,
    publishTimeoutMs: TIMEOUT_MS,
    maxQueued: MAX_QUEUED,
  });
  cleanups.push(() => transport.close());
  const bus = createBus({ transport, source: '/it/alarm', closeTransportOnStop: false });
  const contract = conformanceContract(namespace('alarm'));
  await bus.publish(contract, { key: 'k', seq: 0 });
  const publisherState = async () =>
    (await transport.health()).details.publisher as { pending: number; queued: number };

  const outcomes: Outcome[] = [];
  let maxQueuedSeen = 0;
  let sent = 0;
  let sawBlocked = false;
  const restore = await raiseMemoryAlarm();
  try {
    const all: Promise<void>[] = [];
    const started = Date.now();
    while (Date.now() - started < FLOOD_MS) {
      for (let i = 0; i < 50; i++) {
        const at = Date.now();
        all.push(
          bus.publish(contract, { key: `k${i}`, seq: ++sent }).then(
            () => void outcomes.push({ ms: Date.now() - at }),
            (error: unknown) => void outcomes.push({ ms: Date.now() - at, error }),
          ),
        );
      }
      const health = await transport.health();
      sawBlocked ||= (health.details.connections as { publish: { blocked: boolean } }).publish
        .blocked;
      maxQueuedSeen = Math.max(
        maxQueuedSeen,
        (health.details.publisher as { queued: number }).queued,
      );
      await sleep(10);
    }
    await Promise.all(all);
    maxQueuedSeen = Math.max(maxQueuedSeen, (await publisherState()).queued);
  } finally {
    await restore();
  }
  const cleared = Date.now();

  const errors = outcomes.filter((outcome) => outcome.error !== undefined);
  const full = errors.filter(
    (outcome) => (outcome.error as EdakitError).context?.reason === 'queue-full',
  );
  const timedOut = errors.filter((outcome) => !full.includes(outcome));
  const slowest = Math.max(...timedOut.map((outcome) => outcome.ms));
  console.log(
    `resource alarm: ${sent} publishes in ${FLOOD_MS} ms, ${outcomes.length - errors.length} confirmed, ` +
      `${full.length} rejected at once (queue full, slowest ${Math.max(...full.map((o) => o.ms))} ms), ` +
      `${timedOut.length} rejected at their deadline (slowest ${slowest} ms); ` +
      `at most ${maxQueuedSeen} waiting (maxQueued ${MAX_QUEUED})`,
  );
  expect(sawBlocked).toBe(true);
  expect(outcomes).toHaveLength(sent);
  for (const { error } of errors) {
    expect(EdakitError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: ErrorCodes.PUBLISH_FAILED,
      retryable: true,
      context: { eventId: expect.any(String), exchange: expect.any(String) },
    });
  }
  // The waiting queue never grew past its bound, and what overflowed failed fast.
  expect(maxQueuedSeen).toBeLessThanOrEqual(MAX_QUEUED);
  expect(full.length).toBeGreaterThan(0);
  expect(full[0]?.error).toMatchObject({
    name: 'PublishQueueFullError',
    context: { reason: 'queue-full', maxQueued: MAX_QUEUED },
  });
  expect(Math.max(...full.map((outcome) => outcome.ms))).toBeLessThan(500);
  // Every other publish settled by its deadline (with the sweeper's slack).
  expect(slowest).toBeLessThan(TIMEOUT_MS + 1_000);

  // The alarm is over: the publisher opens a channel and publishes again.
  await waitFor(
    () =>
      bus.publish(contract, { key: 'k', seq: ++sent }).then(
        () => true,
        () => undefined,
      ),
    { timeoutMs: 30_000, intervalMs: 200, description: 'a publish after the alarm cleared' },
  );
  console.log(
    `resource alarm: first publish confirmed ${Date.now() - cleared} ms after it cleared`,
  );
  expect((await publisherState()).queued).toBe(0);
});
