import {
  createBus,
  type HandlerContext,
  InMemoryTransport,
  MemoryBroker,
  silentLogger,
} from '@edakit/core';
import { waitFor } from '@edakit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresInbox, createRelay } from '../../src';
import {
  AuditNoted,
  OrderPlaced,
  type OutboxFixture,
  outboxFixture,
  uniqueTable,
} from '../support/postgres';

let fixture: OutboxFixture | undefined;
let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  await fixture?.cleanup();
  fixture = undefined;
});

/** An inbox plus an `effects` table the handlers write to, both on fresh tables. */
async function setup() {
  fixture = await outboxFixture();
  const f = fixture;
  const inboxTable = uniqueTable('inbox');
  const effects = uniqueTable('effects');
  await f.pool.query(`CREATE TABLE ${effects} (event_id text, note text)`);
  const inbox = createPostgresInbox({ pool: f.pool, table: inboxTable, outbox: f.outbox });
  await inbox.migrate();
  cleanups.push(() => f.pool.query(`DROP TABLE IF EXISTS ${effects}, ${inboxTable}`));
  const effectRows = async () =>
    (
      await f.pool.query<{ event_id: string; note: string }>(
        `SELECT event_id, note FROM ${effects}`,
      )
    ).rows;
  return { f, inbox, effects, effectRows };
}

function context(group: string): HandlerContext {
  return {
    group,
    handler: `${group}/order.placed`,
    channel: 'order',
    attempt: 1,
    receivedVersion: 1,
    signal: new AbortController().signal,
    publish: async () => {
      throw new Error('not used');
    },
    logger: silentLogger,
  };
}

describe('PostgreSQL inbox', () => {
  it('acknowledges a duplicate delivery without running the handler again', async () => {
    const { f, inbox, effects, effectRows } = await setup();
    const transport = new InMemoryTransport();
    const bus = createBus({ transport, source: '/inbox-test' });
    cleanups.push(() => bus.stop());
    let runs = 0;
    bus.subscribe({
      group: 'billing',
      handlers: [
        inbox.on(OrderPlaced, async (event, ctx) => {
          runs++;
          await ctx.client.query(`INSERT INTO ${effects} VALUES ($1, 'charged')`, [event.id]);
        }),
      ],
    });
    await bus.start();
    const id = '01930000-0000-7000-8000-000000000001';
    await bus.publish(OrderPlaced, { orderId: 'o-1', n: 1 }, { id });
    await bus.publish(OrderPlaced, { orderId: 'o-1', n: 1 }, { id });
    await bus.publish(OrderPlaced, { orderId: 'o-2', n: 1 });
    await waitFor(async () => (await effectRows()).length === 2 && runs === 2, { timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(runs).toBe(2);
    expect((await effectRows()).filter((row) => row.event_id === id)).toHaveLength(1);
    const recorded = await f.pool.query(
      `SELECT consumer, event_id FROM ${inbox.table} ORDER BY received_at`,
    );
    expect(recorded.rows[0]).toEqual({ consumer: 'billing/order.placed', event_id: id });
    expect(recorded.rows).toHaveLength(2);
  });

  it('lets one of two concurrent deliveries run; the other waits, then sees the duplicate', async () => {
    const { f, inbox, effects, effectRows } = await setup();
    const prepared = f.bus.prepare(OrderPlaced, { orderId: 'o-1', n: 1 });
    let runs = 0;
    const binding = inbox.on(OrderPlaced, async (event, ctx) => {
      runs++;
      await ctx.client.query(`INSERT INTO ${effects} VALUES ($1, 'charged')`, [event.id]);
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    // Two instances of the service handle the same event at the same moment.
    await Promise.all([
      binding.handle(prepared.envelope, context('billing')),
      binding.handle(prepared.envelope, context('billing')),
    ]);
    expect(runs).toBe(1);
    expect(await effectRows()).toHaveLength(1);

    // When the first delivery fails, the waiting one runs the handler instead.
    const second = f.bus.prepare(OrderPlaced, { orderId: 'o-2', n: 1 });
    let attempts = 0;
    const flaky = inbox.on(OrderPlaced, async (event, ctx) => {
      attempts++;
      await ctx.client.query(`INSERT INTO ${effects} VALUES ($1, $2)`, [
        event.id,
        `attempt ${attempts}`,
      ]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (attempts === 1) throw new Error('card declined');
    });
    const results = await Promise.allSettled([
      flaky.handle(second.envelope, context('billing')),
      new Promise((resolve) => setTimeout(resolve, 50)).then(() =>
        flaky.handle(second.envelope, context('billing')),
      ),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(attempts).toBe(2);
    expect((await effectRows()).filter((row) => row.event_id === second.envelope.id)).toEqual([
      { event_id: second.envelope.id, note: 'attempt 2' },
    ]);
  });

  it('rolls the inbox row back with a throwing handler, so the retry runs it', async () => {
    const { f, inbox, effects, effectRows } = await setup();
    const transport = new InMemoryTransport({ broker: new MemoryBroker() });
    const bus = createBus({
      transport,
      source: '/inbox-test',
      retry: { immediate: 0, delayed: [50] },
    });
    cleanups.push(() => bus.stop());
    let calls = 0;
    bus.subscribe({
      group: 'shipping',
      handlers: [
        inbox.on(OrderPlaced, async (event, ctx) => {
          calls++;
          await ctx.client.query(`INSERT INTO ${effects} VALUES ($1, $2)`, [
            event.id,
            `call ${calls}`,
          ]);
          // What the handler emits goes to the outbox in the same transaction.
          await ctx.emit(AuditNoted, { text: `shipping call ${calls}` });
          if (calls === 1) throw new Error('label printer offline');
        }),
      ],
    });
    await bus.start();
    const sent = await bus.publish(OrderPlaced, { orderId: 'o-9', n: 1 });
    await waitFor(() => calls === 2, { timeoutMs: 5000 });
    await waitFor(async () => (await effectRows()).length === 1, { timeoutMs: 5000 });
    expect(await effectRows()).toEqual([{ event_id: sent.id, note: 'call 2' }]);
    const emitted = await f.pool.query<{ body: Buffer; headers: Record<string, string> }>(
      `SELECT body, headers FROM ${f.table}`,
    );
    expect(emitted.rows).toHaveLength(1);
    expect(JSON.parse(emitted.rows[0]?.body.toString() ?? '{}')).toEqual({
      text: 'shipping call 2',
    });
    expect(emitted.rows[0]?.headers).toMatchObject({
      ce_causationid: sent.id,
      ce_correlationid: sent.correlationid,
    });
    // And the relay sends it once the handler's transaction committed.
    const relayed = new InMemoryTransport();
    const relay = createRelay({
      store: f.outbox.store,
      transport: relayed,
      wakeOn: [f.outbox.commits],
    });
    relay.start();
    cleanups.push(() => relay.stop());
    await waitFor(async () => (await f.outbox.store.stats()).pending === 0, { timeoutMs: 5000 });
    expect(relay.metrics().published).toBe(1);
  });

  it('prunes records older than the window only', async () => {
    const { f, inbox } = await setup();
    await f.pool.query(
      `INSERT INTO ${inbox.table} (consumer, event_id, event_type, received_at)
       SELECT 'c', 'old-' || g, 't', now() - interval '8 days' FROM generate_series(1, 7) g
       UNION ALL SELECT 'c', 'new-' || g, 't', now() FROM generate_series(1, 3) g`,
    );
    const week = 7 * 24 * 3600 * 1000;
    expect(await inbox.prune(week, 5)).toBe(5);
    expect(await inbox.prune(week, 5)).toBe(2);
    const left = await f.pool.query<{ event_id: string }>(
      `SELECT event_id FROM ${inbox.table} ORDER BY event_id`,
    );
    expect(left.rows.map((row) => row.event_id)).toEqual(['new-1', 'new-2', 'new-3']);
  });
});
