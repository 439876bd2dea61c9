import { healthCheck, InMemoryTransport } from '@edakit/core';
import { CapturingTransport, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { createRelay, type Relay } from '../../src';
import { OrderPlaced, type OutboxFixture, outboxFixture } from '../support/postgres';

let fixture: OutboxFixture | undefined;
const relays: Relay[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop()));
  await fixture?.cleanup();
  fixture = undefined;
});

/**
 * The same on PostgreSQL, where the age is the database's now() minus the
 * oldest row's commit time: committed rows no relay publishes make health
 * degraded once they are older than maxOutboxAgeMs; relayed, it is up.
 */
it('turns degraded when committed rows wait longer than maxOutboxAgeMs, up once relayed', async () => {
  fixture = await outboxFixture();
  const f = fixture;
  const capture = new CapturingTransport(new InMemoryTransport());
  const relay = createRelay({
    store: f.outbox.store,
    transport: capture,
    wakeOn: [f.outbox.commits],
  });
  relays.push(relay);
  const options = { outboxes: { orders: relay }, thresholds: { maxOutboxAgeMs: 400 } };
  expect((await healthCheck(options)).status).toBe('up');

  await f.outbox.transaction(async (client) => {
    for (let n = 1; n <= 3; n++) await f.outbox.add(client, OrderPlaced, { orderId: 'o-1', n });
  });
  await new Promise((resolve) => setTimeout(resolve, 600));
  const late = await healthCheck(options);
  expect(late.status).toBe('degraded');
  const [check] = late.checks;
  expect(check).toMatchObject({ name: 'outbox orders', status: 'degraded', threshold: 400 });
  expect(check?.observed).toBeGreaterThanOrEqual(500);
  expect(check?.message).toMatch(/^3 pending, oldest \d+ ms, 0 dead$/);

  relay.start();
  await waitFor(() => capture.captured.length === 3, { timeoutMs: 10_000 });
  await waitFor(async () => (await healthCheck(options)).status === 'up', { timeoutMs: 10_000 });
});
