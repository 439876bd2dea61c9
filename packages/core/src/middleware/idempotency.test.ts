import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createBus } from '../bus/create-bus';
import { defineEvent } from '../contract/define-event';
import type { EventEnvelope } from '../envelope/event-envelope';
import { ErrorCodes } from '../errors/error-codes';
import { type HandlerContext, on } from '../handler/handler';
import { MemoryIdempotencyStore } from '../idempotency/memory-idempotency-store';
import { silentLogger } from '../logging/logger';
import { InMemoryTransport } from '../memory/in-memory-transport';
import { waitFor } from '../testing/wait-for';
import { idempotency } from './idempotency';

const Paid = defineEvent({
  type: 'payment.made',
  schema: z.object({ orderId: z.string() }),
  description: 'x',
});
const event = { id: 'e-1', source: '/s' } as EventEnvelope;
const context = {
  group: 'g',
  handler: 'h',
  logger: silentLogger,
  signal: new AbortController().signal,
} as HandlerContext;

describe('idempotency middleware', () => {
  it('runs a handler once per event id, even when the event is delivered twice', async () => {
    const store = new MemoryIdempotencyStore();
    const transport = new InMemoryTransport();
    const bus = createBus({ transport, source: '/s', middleware: [idempotency({ store })] });
    const effects: string[] = [];
    bus.subscribe({
      group: 'billing',
      handlers: [on(Paid, (e) => void effects.push(e.data.orderId))],
    });
    await bus.start();
    const prepared = bus.prepare(Paid, { orderId: 'o-1' });
    await bus.publishBatch([prepared]);
    await bus.publishBatch([prepared]); // a redelivery: same id
    await bus.publish(Paid, { orderId: 'o-2' });
    await waitFor(() => effects.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(effects).toEqual(['o-1', 'o-2']);
    await bus.stop();
  });

  it('releases the lease when the handler throws, so the retry runs it', async () => {
    const store = new MemoryIdempotencyStore();
    const middleware = idempotency({ store });
    await expect(
      middleware(event, context, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const next = vi.fn(async () => {});
    await middleware(event, context, next);
    await middleware(event, context, next);
    expect(next).toHaveBeenCalledTimes(1);
  });

  it('asks for a later retry (EDAKIT_EVENT_IN_FLIGHT) while another consumer holds the event', async () => {
    const store = new MemoryIdempotencyStore();
    const middleware = idempotency({ store });
    let release: () => void = () => {};
    const first = middleware(
      event,
      context,
      () => new Promise<void>((resolve) => (release = resolve)),
    );
    await expect(middleware(event, context, async () => {})).rejects.toMatchObject({
      code: ErrorCodes.EVENT_IN_FLIGHT,
      retryable: true,
    });
    release();
    await first;
  });

  it('renews the lease of a long handler', async () => {
    vi.useFakeTimers();
    try {
      const store = new MemoryIdempotencyStore({ now: () => Date.now() });
      const renew = vi.spyOn(store, 'renew');
      const middleware = idempotency({ store, leaseMs: 300 });
      const running = middleware(
        event,
        context,
        () => new Promise<void>((resolve) => setTimeout(resolve, 1000)),
      );
      await vi.advanceTimersByTimeAsync(1000);
      await running;
      expect(renew.mock.calls.length).toBeGreaterThanOrEqual(9);
      expect((await store.acquire('g:h:/s:e-1', 100)).status).toBe('done');
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops renewing when the handler is aborted, so a redelivery can take the event', async () => {
    vi.useFakeTimers();
    try {
      const store = new MemoryIdempotencyStore({ now: () => Date.now() });
      const renew = vi.spyOn(store, 'renew');
      const controller = new AbortController();
      const middleware = idempotency({ store, leaseMs: 300 });
      void middleware(
        event,
        { ...context, signal: controller.signal },
        () => new Promise<void>(() => {}),
      );
      await vi.advanceTimersByTimeAsync(250);
      const before = renew.mock.calls.length;
      controller.abort();
      await vi.advanceTimersByTimeAsync(1000);
      expect(renew.mock.calls.length).toBe(before);
      expect((await store.acquire('g:h:/s:e-1', 100)).status).toBe('acquired');
    } finally {
      vi.useRealTimers();
    }
  });

  it('warns when the lease was lost, and keeps the work done when marking fails', async () => {
    const warnings: string[] = [];
    const errors: string[] = [];
    const logger = {
      ...silentLogger,
      warn: (_: unknown, m: string) => void warnings.push(m),
      error: (_: unknown, m: string) => void errors.push(m),
    };
    const lost = new MemoryIdempotencyStore();
    lost.markDone = async () => false;
    await idempotency({ store: lost })(event, { ...context, logger }, async () => {});
    expect(warnings).toEqual([expect.stringContaining('may be processed again')]);
    const failing = new MemoryIdempotencyStore();
    let marks = 0;
    failing.markDone = async () => {
      marks++;
      throw new Error('store down');
    };
    await expect(
      idempotency({ store: failing })(event, { ...context, logger }, async () => {}),
    ).resolves.toBeUndefined();
    expect(marks).toBe(3);
    expect(errors).toEqual([expect.stringContaining('could not record')]);
  });

  it('uses a custom key and rejects bad windows', async () => {
    const store = new MemoryIdempotencyStore();
    const middleware = idempotency({ store, key: (e) => `custom:${e.id}` });
    await middleware(event, context, async () => {});
    expect((await store.acquire('custom:e-1', 10)).status).toBe('done');
    expect(() => idempotency({ store, leaseMs: 0 })).toThrowError(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTIONS }),
    );
  });
});

describe('MemoryIdempotencyStore', () => {
  it('fences by token: a holder whose lease expired cannot mark done or release', async () => {
    let now = 0;
    const store = new MemoryIdempotencyStore({ now: () => now });
    const first = await store.acquire('k', 100);
    expect(first.status).toBe('acquired');
    expect(await store.acquire('k', 100)).toEqual({ status: 'in-flight' });
    now = 150; // first holder stalled past its lease
    const second = await store.acquire('k', 100);
    expect(second.status).toBe('acquired');
    if (first.status !== 'acquired' || second.status !== 'acquired') return;
    expect(await store.markDone('k', first.token, 1000)).toBe(false);
    expect(await store.release('k', first.token)).toBe(false);
    expect(await store.renew('k', first.token, 100)).toBe(false);
    expect(await store.renew('k', second.token, 100)).toBe(true);
    expect(await store.markDone('k', second.token, 1000)).toBe(true);
    expect(await store.acquire('k', 100)).toEqual({ status: 'done' });
    now = 2000;
    expect((await store.acquire('k', 100)).status).toBe('acquired');
  });

  it('sweeps expired entries', async () => {
    let now = 0;
    const store = new MemoryIdempotencyStore({ now: () => now });
    for (let i = 0; i < 1023; i++) await store.acquire(`k${i}`, 10);
    expect(store.size).toBe(1023);
    now = 100;
    await store.acquire('last', 10);
    expect(store.size).toBe(1);
  });
});
