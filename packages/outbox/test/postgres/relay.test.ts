import { InMemoryTransport, type OutgoingMessage } from '@edakit/core';
import { CapturingTransport, waitFor } from '@edakit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createRelay, type Relay } from '../../src';
import { OrderPlaced, type OutboxFixture, outboxFixture } from '../support/postgres';

let fixture: OutboxFixture | undefined;
const relays: Relay[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop()));
  await fixture?.cleanup();
  fixture = undefined;
});

const idOf = (message: OutgoingMessage) => message.message.headers.ce_id;
const nOf = (message: OutgoingMessage) =>
  (JSON.parse(Buffer.from(message.message.body).toString()) as { n: number }).n;

function start(relay: Relay): Relay {
  relays.push(relay);
  relay.start();
  return relay;
}

describe('relay over the PostgreSQL outbox', () => {
  it('publishes committed rows in per-key order and marks them published', async () => {
    fixture = await outboxFixture();
    const f = fixture;
    const capture = new CapturingTransport(new InMemoryTransport());
    for (let n = 1; n <= 20; n++) {
      await f.outbox.transaction(async (client) => {
        for (const orderId of ['a', 'b', 'c'])
          await f.outbox.add(client, OrderPlaced, { orderId, n });
      });
    }
    start(
      createRelay({
        store: f.outbox.store,
        transport: capture,
        batchSize: 7,
        wakeOn: [f.outbox.commits],
      }),
    );
    await waitFor(() => capture.captured.length >= 60, { timeoutMs: 10_000 });
    for (const orderId of ['a', 'b', 'c']) {
      const ns = capture.captured.filter((m) => m.message.key === orderId).map(nOf);
      expect(ns).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    }
    expect(new Set(capture.captured.map(idOf)).size).toBe(60);
    await waitFor(async () => (await f.outbox.store.stats()).pending === 0, { timeoutMs: 5000 });
    expect(await f.outbox.store.stats()).toMatchObject({
      pending: 0,
      dead: 0,
      oldestPendingAgeMs: 0,
    });
    // Settled rows are deleted by default: the table stays small.
    expect((await f.pool.query(`SELECT id FROM ${f.table}`)).rows).toEqual([]);
  });

  it('backs a poison row off, marks it dead, blocks only its key, and replays it in order', async () => {
    fixture = await outboxFixture();
    const f = fixture;
    const capture = new CapturingTransport(new InMemoryTransport());
    let poisonFixed = false;
    const transport = {
      async publish(messages: readonly OutgoingMessage[]) {
        if (!poisonFixed && messages.some((m) => m.message.key === 'b' && nOf(m) === 13)) {
          throw new Error('broker refused b#13');
        }
        await capture.publish(messages);
      },
    };
    for (let n = 1; n <= 20; n++) {
      await f.outbox.transaction(async (client) => {
        for (const orderId of ['a', 'b', 'c'])
          await f.outbox.add(client, OrderPlaced, { orderId, n });
      });
    }
    const relay = start(
      createRelay({
        store: f.outbox.store,
        transport,
        batchSize: 100,
        pollIntervalMs: 20,
        retry: { maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 200 },
      }),
    );
    await waitFor(async () => (await f.outbox.store.stats()).dead === 1, { timeoutMs: 10_000 });
    const keys = (key: string) => capture.captured.filter((m) => m.message.key === key).map(nOf);
    const all = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(keys('a')).toEqual(all);
    expect(keys('c')).toEqual(all);
    expect(keys('b')).toEqual(all.slice(0, 12));
    const stuck = await f.outbox.store.listStuck(10);
    expect(stuck).toHaveLength(1);
    expect(stuck[0]).toMatchObject({ lastError: 'broker refused b#13', retryAt: undefined });
    expect(stuck[0]?.record).toMatchObject({ key: 'b', sequence: 13, attempts: 3 });
    expect(relay.metrics()).toMatchObject({ failedAttempts: 3, dead: 1 });
    expect(await f.outbox.store.stats()).toMatchObject({ pending: 8, dead: 1 });
    // Still blocked a while later: nothing of b after #12 goes out.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(keys('b')).toEqual(all.slice(0, 12));

    poisonFixed = true;
    expect(await f.outbox.store.replay([stuck[0]?.record.id ?? ''])).toBe(1);
    relay.wake();
    await waitFor(() => keys('b').length === 20, { timeoutMs: 10_000 });
    expect(keys('b')).toEqual(all);
    expect(new Set(capture.captured.map(idOf)).size).toBe(60);
  });

  it('treats a broker that refuses everything as an outage and counts no attempts', async () => {
    fixture = await outboxFixture();
    const f = fixture;
    let calls = 0;
    const transport = {
      async publish() {
        calls++;
        throw new Error('connection refused');
      },
    };
    await f.outbox.transaction(async (client) => {
      for (const orderId of ['a', 'b', 'c', 'd'])
        await f.outbox.add(client, OrderPlaced, { orderId, n: 1 });
    });
    const relay = start(createRelay({ store: f.outbox.store, transport, pollIntervalMs: 20 }));
    await waitFor(() => relay.metrics().outages >= 2, { timeoutMs: 10_000 });
    await relay.stop();
    expect(calls).toBeGreaterThanOrEqual(6);
    expect(relay.metrics()).toMatchObject({ published: 0, failedAttempts: 0, dead: 0 });
    const attempts = await f.pool.query<{ attempts: number }>(`SELECT attempts FROM ${f.table}`);
    expect(attempts.rows.map((row) => row.attempts)).toEqual([0, 0, 0, 0]);
    expect(await f.outbox.store.listStuck(10)).toEqual([]);
  });

  it('fences a relay whose lease expired: its late settle marks nothing', async () => {
    fixture = await outboxFixture();
    const f = fixture;
    await f.outbox.transaction(async (client) => {
      for (let n = 1; n <= 3; n++) await f.outbox.add(client, OrderPlaced, { orderId: 'k', n });
    });
    const stale = await f.outbox.store.claim({ limit: 10, leaseMs: 100 });
    expect(stale?.records.map((r) => r.sequence)).toEqual([1, 2, 3]);
    // While the lease holds, nobody else gets the key.
    expect(await f.outbox.store.claim({ limit: 10, leaseMs: 100 })).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const fresh = await f.outbox.store.claim({ limit: 10, leaseMs: 10_000 });
    expect(fresh?.records.map((r) => r.id)).toEqual(stale?.records.map((r) => r.id));
    if (!stale || !fresh) throw new Error('claims expected');
    expect(await f.outbox.store.settle(stale, { published: stale.records, failed: [] })).toEqual({
      published: 0,
      fenced: 3,
    });
    expect((await f.outbox.store.stats()).pending).toBe(3);
    expect(await f.outbox.store.settle(fresh, { published: fresh.records, failed: [] })).toEqual({
      published: 3,
      fenced: 0,
    });
    expect((await f.outbox.store.stats()).pending).toBe(0);
  });

  it('prunes published rows past retention in bounded batches, never pending ones', async () => {
    fixture = await outboxFixture({ keepPublished: true });
    const f = fixture;
    await f.outbox.transaction(async (client) => {
      for (let n = 1; n <= 25; n++)
        await f.outbox.add(client, OrderPlaced, { orderId: `k${n}`, n });
    });
    const claim = await f.outbox.store.claim({ limit: 20, leaseMs: 10_000 });
    if (!claim) throw new Error('claim expected');
    await f.outbox.store.settle(claim, { published: claim.records, failed: [] });
    expect(await f.outbox.store.prune(60_000, 100)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await f.outbox.store.prune(10, 8)).toBe(8);
    expect(await f.outbox.store.prune(10, 100)).toBe(12);
    const left = await f.pool.query<{ published: boolean }>(
      `SELECT published_at IS NOT NULL AS published FROM ${f.table}`,
    );
    expect(left.rows).toHaveLength(5);
    expect(left.rows.every((row) => !row.published)).toBe(true);
  });
});
