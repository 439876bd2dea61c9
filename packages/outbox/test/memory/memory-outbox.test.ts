import { createBus, InMemoryTransport, type OutgoingMessage } from '@edakit/core';
import { CapturingTransport, waitFor } from '@edakit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createRelay, MemoryOutbox, type Relay } from '../../src';
import { OrderPlaced } from '../support/postgres';

const relays: Relay[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop()));
});

const nOf = (message: OutgoingMessage) =>
  (JSON.parse(Buffer.from(message.message.body).toString()) as { n: number }).n;

describe('memory outbox', () => {
  it('relays in per-key order, blocks a dead row only for its key, and replays it', async () => {
    const bus = createBus({ transport: new InMemoryTransport(), source: '/memory-outbox' });
    const outbox = new MemoryOutbox();
    const capture = new CapturingTransport(new InMemoryTransport());
    let refuse = true;
    const transport = {
      async publish(messages: readonly OutgoingMessage[]) {
        if (refuse && messages.some((m) => m.message.key === 'b' && nOf(m) === 3))
          throw new Error('no b#3');
        await capture.publish(messages);
      },
    };
    for (let n = 1; n <= 5; n++) {
      outbox.add(['a', 'b'].map((orderId) => bus.prepare(OrderPlaced, { orderId, n })));
    }
    const relay = createRelay({
      store: outbox,
      transport,
      batchSize: 3,
      pollIntervalMs: 10,
      retry: { maxAttempts: 2, initialDelayMs: 10 },
      wakeOn: [outbox.commits],
    });
    relays.push(relay);
    relay.start();
    await waitFor(async () => (await outbox.stats()).dead === 1, { timeoutMs: 5000 });
    const of = (key: string) => capture.captured.filter((m) => m.message.key === key).map(nOf);
    expect(of('a')).toEqual([1, 2, 3, 4, 5]);
    expect(of('b')).toEqual([1, 2]);
    const [stuck] = await outbox.listStuck(5);
    expect(stuck).toMatchObject({
      lastError: 'no b#3',
      retryAt: undefined,
      record: { sequence: 3, attempts: 2 },
    });
    refuse = false;
    expect(await outbox.replay([stuck?.record.id ?? ''])).toBe(1);
    relay.wake();
    await waitFor(() => of('b').length === 5, { timeoutMs: 5000 });
    expect(of('b')).toEqual([1, 2, 3, 4, 5]);
    expect(await outbox.stats()).toEqual({ pending: 0, dead: 0, oldestPendingAgeMs: 0 });
    expect(await outbox.prune(0, 100)).toBe(10);
  });

  it('fences a stale claim', async () => {
    let now = 1_000;
    const outbox = new MemoryOutbox(() => now);
    const bus = createBus({ transport: new InMemoryTransport(), source: '/memory-outbox' });
    outbox.add([bus.prepare(OrderPlaced, { orderId: 'k', n: 1 })]);
    const stale = await outbox.claim({ limit: 5, leaseMs: 100 });
    expect(await outbox.claim({ limit: 5, leaseMs: 100 })).toBeUndefined();
    now += 101;
    const fresh = await outbox.claim({ limit: 5, leaseMs: 100 });
    if (!stale || !fresh) throw new Error('claims expected');
    expect(await outbox.settle(stale, { published: stale.records, failed: [] })).toEqual({
      published: 0,
      fenced: 1,
    });
    expect(await outbox.settle(fresh, { published: fresh.records, failed: [] })).toEqual({
      published: 1,
      fenced: 0,
    });
  });
});
