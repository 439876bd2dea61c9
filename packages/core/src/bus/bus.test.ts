import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../contract/define-event';
import { FailureHeaders } from '../dead-letter/failure-headers';
import { ErrorCodes } from '../errors/error-codes';
import { NonRetryableError } from '../errors/handling-errors';
import { type HandlerContext, on } from '../handler/handler';
import { InMemoryTransport } from '../memory/in-memory-transport';
import { MemoryBroker } from '../memory/memory-broker';
import { waitFor } from '../testing/wait-for';
import type { OutgoingMessage, Transport } from '../transport/transport';
import { createBus } from './create-bus';

const OrderCreated = defineEvent({
  type: 'order.created',
  schema: z.object({ orderId: z.string(), total: z.number().nonnegative() }),
  description: 'placed',
  partitionKey: (order) => order.orderId,
});
const OrderPaid = defineEvent({
  type: 'order.paid',
  schema: z.object({ orderId: z.string() }),
  description: 'paid',
});

function setup(options: Partial<Parameters<typeof createBus>[0]> = {}) {
  const transport = new InMemoryTransport();
  const sent: OutgoingMessage[] = [];
  const publish = transport.publish.bind(transport);
  transport.publish = async (messages) => {
    sent.push(...messages);
    return publish(messages);
  };
  const bus = createBus({ transport, source: '/services/orders', ...options });
  return { bus, transport, sent };
}

const noRetry = { immediate: 0, delayed: [] };

/** A transport that does nothing, but what `overrides` says. */
function stubTransport(name: string, overrides: Partial<Transport>): Transport {
  return {
    name,
    connect: async () => {},
    publish: async () => {},
    subscribe: async () => ({ stop: async () => {} }),
    close: async () => {},
    health: async () => ({ status: 'down', details: {} }),
    ...overrides,
  };
}

describe('publish', () => {
  it('validates, wraps and sends; resolves with the envelope', async () => {
    const { bus, sent } = setup();
    const envelope = await bus.publish(OrderCreated, { orderId: 'o-1', total: 5 });
    expect(envelope).toMatchObject({
      type: 'order.created',
      source: '/services/orders',
      partitionkey: 'o-1',
      data: { orderId: 'o-1', total: 5 },
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      channel: 'order',
      type: 'order.created',
      message: { key: 'o-1' },
    });
    expect(bus.registry.has('order.created')).toBe(true);
  });

  it('throws EDAKIT_VALIDATION_FAILED for bad data and sends nothing', async () => {
    const { bus, sent } = setup();
    const bad = { orderId: 'o-1', total: -1 };
    await expect(bus.publish(OrderCreated, bad)).rejects.toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
      issues: [expect.objectContaining({ path: 'total' })],
      context: expect.objectContaining({ eventType: 'order.created' }),
    });
    expect(sent).toHaveLength(0);
  });

  it('publishes a batch in one transport call, all or nothing', async () => {
    const { bus, sent, transport } = setup();
    const spy = vi.spyOn(transport, 'publish');
    const batch = [
      bus.prepare(OrderCreated, { orderId: 'a', total: 1 }),
      bus.prepare(OrderPaid, { orderId: 'a' }),
    ];
    const envelopes = await bus.publishBatch(batch);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(envelopes.map((e) => e.type)).toEqual(['order.created', 'order.paid']);
    expect(sent).toHaveLength(2);
    expect(await bus.publishBatch([])).toEqual([]);
  });

  it('wraps a transport failure in EDAKIT_PUBLISH_FAILED with the event context', async () => {
    const failing = stubTransport('broken', {
      publish: async () => {
        throw new Error('broker said no');
      },
    });
    const bus = createBus({ transport: failing, source: '/s' });
    const error = await bus
      .publish(OrderCreated, { orderId: 'o', total: 1 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: ErrorCodes.PUBLISH_FAILED,
      retryable: true,
      context: expect.objectContaining({ eventType: 'order.created', channel: 'order' }),
    });
    expect((error as Error).cause).toEqual(new Error('broker said no'));
  });

  it('wraps a failure to start consuming in EDAKIT_SUBSCRIBE_FAILED with the group; edakit errors pass as they are', async () => {
    const refusing = (error: unknown) =>
      stubTransport('refusing', {
        subscribe: async () => {
          throw error;
        },
      });
    const start = async (transport: Transport) => {
      const bus = createBus({ transport, source: '/s' });
      bus.subscribe({
        group: 'billing',
        handlers: [on(OrderCreated, () => {}), on(OrderPaid, () => {})],
      });
      return bus.start().catch((e: unknown) => e);
    };
    const cause = Object.assign(new Error('not authorized'), {
      type: 'GROUP_AUTHORIZATION_FAILED',
    });
    const error = await start(refusing(cause));
    expect(error).toMatchObject({
      name: 'SubscribeError',
      code: ErrorCodes.SUBSCRIBE_FAILED,
      retryable: true,
      message: 'Transport "refusing" could not start consuming for group "billing": not authorized',
      context: { group: 'billing', channels: ['order'] },
    });
    expect((error as Error).cause).toBe(cause);
    const typed = new NonRetryableError('already typed');
    expect(await start(refusing(typed))).toBe(typed);
    // The client's own verdict, when it gives one (kafkajs: `retriable`).
    const denied = Object.assign(new Error('denied'), { retriable: false });
    expect(await start(refusing(denied))).toMatchObject({
      code: ErrorCodes.SUBSCRIBE_FAILED,
      retryable: false,
    });
  });

  it('retries a failed connect on the next publish', async () => {
    let attempts = 0;
    const transport = new InMemoryTransport();
    const connect = transport.connect.bind(transport);
    transport.connect = async () => {
      if (++attempts === 1) throw new Error('not yet');
      return connect();
    };
    const bus = createBus({ transport, source: '/s' });
    await expect(bus.publish(OrderPaid, { orderId: 'o' })).rejects.toMatchObject({
      code: ErrorCodes.PUBLISH_FAILED,
      message: expect.stringContaining('not yet'),
    });
    await expect(bus.publish(OrderPaid, { orderId: 'o' })).resolves.toMatchObject({
      type: 'order.paid',
    });
  });

  it('refuses to publish or subscribe once stopped', async () => {
    const { bus } = setup();
    await bus.start();
    await bus.stop();
    expect(bus.state).toBe('stopped');
    await expect(bus.publish(OrderPaid, { orderId: 'o' })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_STATE,
    });
    expect(() => bus.subscribe({ group: 'g', handlers: [on(OrderPaid, () => {})] })).toThrowError(
      /stopped/,
    );
    await expect(bus.start()).rejects.toMatchObject({ code: ErrorCodes.INVALID_STATE });
    await bus.stop(); // idempotent
  });
});

describe('options', () => {
  it('rejects a missing transport or source', () => {
    expect(() =>
      createBus({ transport: undefined as unknown as Transport, source: '/s' }),
    ).toThrowError(expect.objectContaining({ code: ErrorCodes.INVALID_OPTIONS }));
    expect(() => createBus({ transport: new InMemoryTransport(), source: ' ' })).toThrowError(
      /source/,
    );
  });

  it.each([
    [{ group: 'bad group' }, /Group "bad group"/],
    [{ concurrency: 0 }, /concurrency/],
    [{ handlerTimeoutMs: -5 }, /handlerTimeoutMs/],
    [{ handlers: [] }, /no handlers/],
    [{ retry: { immediate: -1 } }, /immediate/],
  ])('rejects subscription options %j', (patch, message) => {
    const { bus } = setup();
    expect(() =>
      bus.subscribe({ group: 'g', handlers: [on(OrderPaid, () => {})], ...patch }),
    ).toThrowError(message);
  });

  it('rejects two subscriptions of one group and two handlers with one name', () => {
    const { bus } = setup();
    bus.subscribe({ group: 'g', handlers: [on(OrderPaid, () => {})] });
    expect(() => bus.subscribe({ group: 'g', handlers: [on(OrderPaid, () => {})] })).toThrowError(
      /already has a subscription/,
    );
    expect(() =>
      bus.subscribe({
        group: 'h',
        handlers: [
          on(OrderPaid, () => {}, { name: 'x' }),
          on(OrderCreated, () => {}, { name: 'x' }),
        ],
      }),
    ).toThrowError(/two handlers named "x"/);
    expect(() =>
      bus.subscribe({
        group: 'i',
        handlers: [{ contract: OrderPaid } as unknown as ReturnType<typeof on>],
      }),
    ).toThrowError(/on\(\)/);
  });
});

describe('handling', () => {
  it('ctx.logger adds the event id, type, correlation id, group, handler and attempt; retries are logged with the attempt', async () => {
    const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const capture =
      (level: string) =>
      (fields: Record<string, unknown>, message: string): void =>
        void lines.push({ level, fields, message });
    const logger = {
      debug: capture('debug'),
      info: capture('info'),
      warn: capture('warn'),
      error: capture('error'),
    };
    const { bus } = setup({ logger });
    let calls = 0;
    bus.subscribe({
      group: 'billing',
      retry: { immediate: 0, delayed: [5] },
      handlers: [
        on(OrderCreated, (event, ctx) => {
          ctx.logger.info({ total: event.data.total, group: 'mine' }, 'charging');
          if (++calls === 1) throw new Error('card service down');
        }),
      ],
    });
    await bus.start();
    const published = await bus.publish(
      OrderCreated,
      { orderId: 'o-9', total: 12 },
      { correlationId: 'checkout-1' },
    );
    await waitFor(() => calls === 2);
    await bus.stop();
    const common = {
      eventId: published.id,
      eventType: 'order.created',
      correlationId: 'checkout-1',
      handler: 'billing/order.created',
    };
    expect(lines.filter((line) => line.message === 'charging')).toEqual([
      {
        level: 'info',
        message: 'charging',
        fields: { ...common, group: 'mine', attempt: 1, total: 12 },
      },
      {
        level: 'info',
        message: 'charging',
        fields: { ...common, group: 'mine', attempt: 2, total: 12 },
      },
    ]);
    expect(lines.find((line) => line.message === 'event will be retried')?.fields).toMatchObject({
      ...common,
      group: 'billing',
      attempt: 1,
      error: 'card service down',
    });
  });

  it('ctx.logger and the retry log line carry the trace id of the event, none without a trace context', async () => {
    const lines: { message: string; fields: Record<string, unknown> }[] = [];
    const capture = (fields: Record<string, unknown>, message: string): void =>
      void lines.push({ message, fields });
    const logger = { debug: capture, info: capture, warn: capture, error: capture };
    const { bus } = setup({ logger });
    const seen: string[] = [];
    bus.subscribe({
      group: 'billing',
      retry: { immediate: 0, delayed: [5] },
      handlers: [
        on(OrderCreated, (event, ctx) => {
          ctx.logger.info({}, `handling ${event.data.orderId}`);
          seen.push(event.data.orderId);
          if (event.data.orderId === 'traced' && seen.length === 1) throw new Error('once');
        }),
      ],
    });
    await bus.start();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await bus.publish(
      OrderCreated,
      { orderId: 'traced', total: 1 },
      { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    await waitFor(() => seen.length === 2);
    await bus.publish(OrderCreated, { orderId: 'untraced', total: 1 });
    await waitFor(() => seen.length === 3);
    await bus.stop();
    const traced = lines.filter((line) => line.message === 'handling traced');
    expect(traced).toHaveLength(2);
    for (const line of traced) {
      expect(line.fields).toMatchObject({ trace_id: traceId, trace_flags: '01' });
    }
    expect(lines.find((line) => line.message === 'event will be retried')?.fields).toMatchObject({
      trace_id: traceId,
    });
    const untraced = lines.find((line) => line.message === 'handling untraced');
    expect(untraced?.fields).toBeDefined();
    expect(untraced?.fields).not.toHaveProperty('trace_id');
  });

  it('a copy of the context (`{ ...ctx }`, as middleware makes) keeps its logger and fields', async () => {
    const lines: Record<string, unknown>[] = [];
    const capture = (fields: Record<string, unknown>): void => void lines.push(fields);
    const { bus } = setup({
      logger: { debug: capture, info: capture, warn: capture, error: capture },
    });
    let copied: HandlerContext | undefined;
    bus.subscribe({
      group: 'copies',
      handlers: [
        on(OrderCreated, (_event, ctx) => {
          copied = { ...ctx };
          copied.logger.info({ copy: true }, 'from a copy');
        }),
      ],
    });
    await bus.start();
    const published = await bus.publish(OrderCreated, { orderId: 'o-c', total: 1 });
    await waitFor(() => lines.length === 1);
    await bus.stop();
    expect(copied).toMatchObject({ group: 'copies', handler: 'copies/order.created', attempt: 1 });
    expect(lines).toEqual([
      {
        eventId: published.id,
        eventType: 'order.created',
        correlationId: published.correlationid,
        group: 'copies',
        handler: 'copies/order.created',
        attempt: 1,
        copy: true,
      },
    ]);
  });

  it('ctx.publish carries the correlation id forward and sets the causation id', async () => {
    const { bus, transport } = setup();
    bus.subscribe({
      group: 'payments',
      handlers: [
        on(OrderCreated, (event, ctx) =>
          ctx.publish(OrderPaid, { orderId: event.data.orderId }).then(() => {}),
        ),
      ],
    });
    const paid: Array<{ correlationid: string; causationid?: string | undefined }> = [];
    bus.subscribe({ group: 'audit', handlers: [on(OrderPaid, (event) => void paid.push(event))] });
    await bus.start();
    const created = await bus.publish(
      OrderCreated,
      { orderId: 'o-1', total: 1 },
      { correlationId: 'conversation-1' },
    );
    await waitFor(() => paid.length === 1);
    expect(paid[0]).toMatchObject({ correlationid: 'conversation-1', causationid: created.id });
    await bus.stop();
    expect((await transport.health()).status).toBe('down');
  });

  it('gives handlers their group, name, attempt and original version', async () => {
    const { bus } = setup();
    const contexts: unknown[] = [];
    bus.subscribe({
      group: 'ctx',
      handlers: [on(OrderCreated, (_event, ctx) => void contexts.push({ ...ctx }))],
    });
    await bus.start();
    await bus.publish(OrderCreated, { orderId: 'o', total: 1 });
    await waitFor(() => contexts.length === 1);
    expect(contexts[0]).toMatchObject({
      group: 'ctx',
      handler: 'ctx/order.created',
      channel: 'order',
      attempt: 1,
      receivedVersion: 1,
    });
    await bus.stop();
  });

  it('sends NonRetryableError straight to the dead-letter queue after one attempt', async () => {
    const { bus, transport } = setup();
    let calls = 0;
    bus.subscribe({
      group: 'strict',
      handlers: [
        on(OrderCreated, () => {
          calls++;
          throw new NonRetryableError('customer does not exist');
        }),
      ],
    });
    await bus.start();
    await bus.publish(OrderCreated, { orderId: 'o', total: 1 });
    const [deadLetter] = await waitFor(async () => {
      const list = await transport.listDeadLetters({ group: 'strict' });
      return list.length > 0 ? list : undefined;
    });
    expect(calls).toBe(1);
    expect(deadLetter?.info).toMatchObject({
      reason: ErrorCodes.NON_RETRYABLE,
      errorClass: 'NonRetryableError',
      errorCode: ErrorCodes.NON_RETRYABLE,
      errorMessage: 'customer does not exist',
      attempts: 1,
    });
    await bus.stop();
  });

  it('re-runs only the handlers that failed within one delivery', async () => {
    const { bus } = setup();
    const calls = { first: 0, second: 0 };
    bus.subscribe({
      group: 'two',
      retry: { immediate: 2, delayed: [] },
      handlers: [
        on(OrderCreated, () => void calls.first++, { name: 'first' }),
        on(
          OrderCreated,
          () => {
            calls.second++;
            if (calls.second < 3) throw new Error('flaky');
          },
          { name: 'second' },
        ),
      ],
    });
    await bus.start();
    await bus.publish(OrderCreated, { orderId: 'o', total: 1 });
    await waitFor(() => calls.second === 3);
    expect(calls.first).toBe(1);
    await bus.stop();
  });

  it('turns thrown non-errors into failure data', async () => {
    const { bus, transport } = setup();
    bus.subscribe({
      group: 'weird',
      retry: noRetry,
      handlers: [
        on(OrderCreated, () => {
          throw { reason: 'plain object' };
        }),
      ],
    });
    await bus.start();
    await bus.publish(OrderCreated, { orderId: 'o', total: 1 });
    const [deadLetter] = await waitFor(async () => {
      const list = await transport.listDeadLetters({ group: 'weird' });
      return list.length > 0 ? list : undefined;
    });
    expect(deadLetter?.info).toMatchObject({
      reason: ErrorCodes.RETRIES_EXHAUSTED,
      errorClass: 'object',
      errorMessage: '{"reason":"plain object"}',
    });
    await bus.stop();
  });

  it('fails an attempt that exceeds handlerTimeoutMs and aborts its signal', async () => {
    const { bus, transport } = setup();
    let aborted: unknown;
    bus.subscribe({
      group: 'slow',
      handlerTimeoutMs: 30,
      retry: noRetry,
      handlers: [
        on(OrderCreated, async (_event, ctx) => {
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
          aborted = ctx.signal.reason;
        }),
      ],
    });
    await bus.start();
    await bus.publish(OrderCreated, { orderId: 'o', total: 1 });
    const [deadLetter] = await waitFor(async () => {
      const list = await transport.listDeadLetters({ group: 'slow' });
      return list.length > 0 ? list : undefined;
    });
    expect(deadLetter?.info.errorCode).toBe(ErrorCodes.HANDLER_TIMEOUT);
    expect(aborted).toMatchObject({ code: ErrorCodes.HANDLER_TIMEOUT });
    await bus.stop();
  });

  it('acknowledges known types without a handler here, dead-letters unknown ones unless told to ignore', async () => {
    // Channel routing: groups see every order.* type, as on a Kafka topic.
    const broker = new MemoryBroker({ routing: 'channel' });
    const publisher = createBus({ transport: new InMemoryTransport({ broker }), source: '/p' });
    const Mystery = defineEvent({ type: 'order.mystery', schema: z.object({}), description: 'x' });
    const consumers = ['strict', 'lenient'].map((name) => {
      const transport = new InMemoryTransport({ broker });
      const bus = createBus({ transport, source: '/c', contracts: [OrderPaid] });
      const seen: string[] = [];
      bus.subscribe({
        group: name,
        unknownEvents: name === 'lenient' ? 'ignore' : 'deadLetter',
        handlers: [on(OrderCreated, (event) => void seen.push(event.id))],
      });
      return { bus, transport, seen };
    });
    const channelWide = new InMemoryTransport({ broker });
    await Promise.all(consumers.map((c) => c.bus.start()));
    await publisher.publish(OrderPaid, { orderId: 'o' });
    await publisher.publish(Mystery, {});
    await publisher.publish(OrderCreated, { orderId: 'o', total: 1 });
    await waitFor(() => consumers.every((c) => c.seen.length === 1));
    expect(await channelWide.listDeadLetters({ group: 'lenient' })).toEqual([]);
    const strict = await channelWide.listDeadLetters({ group: 'strict' });
    expect(strict.map((d) => d.info.reason)).toEqual([ErrorCodes.UNKNOWN_EVENT]);
    await Promise.all(consumers.map((c) => c.bus.stop()));
  });

  it('dead-letters data the handler contract cannot read, without calling it', async () => {
    const { bus, transport } = setup();
    const handler = vi.fn();
    bus.subscribe({ group: 'strict', handlers: [on(OrderCreated, handler)] });
    await bus.start();
    const message = bus.prepare(OrderCreated, { orderId: 'o', total: 1 }).outgoing;
    await transport.publish([
      {
        ...message,
        message: { ...message.message, body: Buffer.from('{"orderId":"o","total":-3}') },
      },
    ]);
    const [deadLetter] = await waitFor(async () => {
      const list = await transport.listDeadLetters({ group: 'strict' });
      return list.length > 0 ? list : undefined;
    });
    expect(handler).not.toHaveBeenCalled();
    expect(deadLetter?.info).toMatchObject({
      reason: ErrorCodes.VALIDATION_FAILED,
      handler: 'strict/order.created',
      attempts: 0,
    });
    expect(deadLetter?.message.headers[FailureHeaders.errorMessage]).toContain('total');
    await bus.stop();
  });

  it('subscribes late: a subscription added after start starts at once', async () => {
    const { bus } = setup();
    await bus.start();
    const seen: string[] = [];
    const subscription = bus.subscribe({
      group: 'late',
      handlers: [on(OrderPaid, (e) => void seen.push(e.id))],
    });
    await subscription.start();
    const sent = await bus.publish(OrderPaid, { orderId: 'o' });
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual([sent.id]);
    const health = await bus.health();
    expect(health).toMatchObject({
      status: 'up',
      state: 'started',
      subscriptions: [{ group: 'late', running: true, inFlight: 0 }],
    });
    await bus.stop();
  });
});

describe('stop', () => {
  it('waits for running handlers within the deadline and acks them', async () => {
    const { bus, transport } = setup({ closeTransportOnStop: false });
    let finished = 0;
    bus.subscribe({
      group: 'drain',
      handlers: [
        on(OrderCreated, async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          finished++;
        }),
      ],
    });
    await bus.start();
    await bus.publish(OrderCreated, { orderId: 'o', total: 1 });
    await waitFor(() => transport.broker.stats().drain?.inFlight === 1);
    await bus.stop({ deadlineMs: 5000 });
    expect(finished).toBe(1);
    expect(transport.broker.stats().drain).toMatchObject({ queued: 0, inFlight: 0, members: 0 });
  });

  it('aborts handlers past the deadline and leaves their events for redelivery', async () => {
    const broker = new MemoryBroker();
    const first = createBus({ transport: new InMemoryTransport({ broker }), source: '/s' });
    let signal: AbortSignal | undefined;
    first.subscribe({
      group: 'stuck',
      handlers: [
        on(OrderCreated, async (_event, ctx) => {
          signal = ctx.signal;
          await new Promise(() => {});
        }),
      ],
    });
    await first.start();
    const sent = await first.publish(OrderCreated, { orderId: 'o', total: 1 });
    await waitFor(() => signal !== undefined);
    const started = Date.now();
    await first.stop({ deadlineMs: 50 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(signal?.aborted).toBe(true);
    expect(broker.stats().stuck).toMatchObject({ queued: 1, inFlight: 0 });

    const second = createBus({ transport: new InMemoryTransport({ broker }), source: '/s' });
    const seen: Array<{ id: string; attempt: number }> = [];
    second.subscribe({
      group: 'stuck',
      handlers: [
        on(OrderCreated, (event, ctx) => void seen.push({ id: event.id, attempt: ctx.attempt })),
      ],
    });
    await second.start();
    await waitFor(() => seen.length === 1);
    // A stop is not the event's failure: no attempt was counted against it.
    expect(seen).toEqual([{ id: sent.id, attempt: 1 }]);
    await second.stop();
  });
});

describe('review findings', () => {
  it('waits for a timed-out handler to settle before the next attempt or event of its key', async () => {
    const { bus, transport } = setup();
    let running = 0;
    let peak = 0;
    const finished: number[] = [];
    const Keyed = defineEvent({
      type: 'order.keyed',
      schema: z.object({ n: z.number() }),
      description: 'x',
      partitionKey: () => 'one-key',
    });
    bus.subscribe({
      group: 'timeouts',
      handlerTimeoutMs: 20,
      retry: { immediate: 1, delayed: [] },
      handlers: [
        on(Keyed, async (event) => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, event.data.n === 1 ? 60 : 1)); // ignores its signal
          running--;
          finished.push(event.data.n);
        }),
      ],
    });
    await bus.start();
    await bus.publish(Keyed, { n: 1 });
    await bus.publish(Keyed, { n: 2 });
    await waitFor(() => finished.includes(2), { timeoutMs: 2000 });
    expect(peak).toBe(1);
    expect(finished).toEqual([1, 1, 2]);
    expect(
      (await transport.listDeadLetters({ group: 'timeouts' })).map((d) => d.info.errorCode),
    ).toEqual([ErrorCodes.HANDLER_TIMEOUT]);
    await bus.stop();
  });

  it('survives a logger that throws and a handler that throws an unprintable value', async () => {
    const angry = {
      debug() {},
      info() {},
      warn() {
        throw new Error('log sink down');
      },
      error() {
        throw new Error('log sink down');
      },
    };
    const { bus, transport } = setup({ logger: angry });
    const weird = Object.create(null) as Record<string, unknown>;
    weird.self = weird;
    bus.subscribe({
      group: 'weird',
      retry: { immediate: 0, delayed: [10] },
      handlers: [
        on(OrderPaid, () => {
          throw weird;
        }),
      ],
    });
    await bus.start();
    await bus.publish(OrderPaid, { orderId: 'o' });
    const [deadLetter] = await waitFor(async () => {
      const list = await transport.listDeadLetters({ group: 'weird' });
      return list.length > 0 ? list : undefined;
    });
    expect(deadLetter?.info).toMatchObject({
      errorMessage: '[unprintable value]',
      attempts: 2,
      retries: 1,
    });
    await bus.stop();
  });

  it('runs every sibling handler before deciding, and skips the ones that succeeded on retries', async () => {
    const { bus, transport } = setup({ closeTransportOnStop: false });
    const calls = { charge: 0, email: 0, audit: 0 };
    bus.subscribe({
      group: 'siblings',
      retry: { immediate: 0, delayed: [10, 10] },
      handlers: [
        on(
          OrderCreated,
          () => {
            calls.charge++;
            throw new NonRetryableError('card rejected');
          },
          { name: 'charge' },
        ),
        on(OrderCreated, () => void calls.email++, { name: 'email' }),
        on(
          OrderCreated,
          () => {
            calls.audit++;
            if (calls.audit < 2) throw new Error('flaky');
          },
          { name: 'audit' },
        ),
      ],
    });
    await bus.start();
    await bus.publish(OrderCreated, { orderId: 'o', total: 1 });
    const [deadLetter] = await waitFor(async () => {
      const list = await transport.listDeadLetters({ group: 'siblings' });
      return list.length > 0 ? list : undefined;
    });
    expect(calls).toEqual({ charge: 1, email: 1, audit: 1 });
    expect(JSON.parse(deadLetter?.message.headers[FailureHeaders.handledBy] ?? '[]')).toEqual([
      'email',
    ]);
    await transport.redriveDeadLetters({ group: 'siblings' });
    await waitFor(() => calls.audit === 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // After the redrive only charge (failed) and audit (failed) ran again; email did not.
    expect(calls).toEqual({ charge: 2, email: 1, audit: 2 });
    const [again] = await transport.listDeadLetters({ group: 'siblings' });
    expect(again?.info).toMatchObject({ redrives: 1, errorMessage: 'card rejected' });
    expect(again?.info.firstFailureAt).toBe(deadLetter?.info.firstFailureAt);
    await bus.stop();
  });

  it('asks for a name when a group has several handlers for one type', () => {
    const { bus } = setup();
    expect(() =>
      bus.subscribe({ group: 'g', handlers: [on(OrderPaid, () => {}), on(OrderPaid, () => {})] }),
    ).toThrowError(/give each a name/);
  });

  it('does not count failure headers against the size limit on redelivery', async () => {
    const { bus, transport } = setup({ maxMessageBytes: 700 });
    let calls = 0;
    bus.subscribe({
      group: 'near-limit',
      retry: { immediate: 0, delayed: [10] },
      handlers: [
        on(OrderPaid, () => {
          if (++calls === 1) throw new Error('x'.repeat(900));
        }),
      ],
    });
    await bus.start();
    await bus.publish(OrderPaid, { orderId: 'o'.repeat(300) });
    await waitFor(() => calls === 2);
    expect(await transport.listDeadLetters({ group: 'near-limit' })).toEqual([]);
    await bus.stop();
  });

  it('reports a typed error for data JSON cannot carry, and validates limits', async () => {
    const Big = defineEvent({
      type: 'big.number',
      schema: z.object({ n: z.bigint() }),
      description: 'x',
    });
    const { bus } = setup();
    await expect(bus.publish(Big, { n: 1n })).rejects.toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
      message: expect.stringContaining('cannot be encoded as JSON'),
    });
    expect(() =>
      createBus({ transport: new InMemoryTransport(), source: '/s', maxMessageBytes: Number.NaN }),
    ).toThrowError(/maxMessageBytes/);
    expect(() =>
      createBus({ transport: new InMemoryTransport(), source: '/s', stopDeadlineMs: -1 }),
    ).toThrowError(/stopDeadlineMs/);
  });

  it('stop() during start() waits for it, and a second stop() waits for the first', async () => {
    const { bus, transport } = setup({ closeTransportOnStop: false });
    let finished = 0;
    bus.subscribe({
      group: 'life',
      handlers: [
        on(OrderPaid, async () => {
          await new Promise((r) => setTimeout(r, 50));
          finished++;
        }),
      ],
    });
    const starting = bus.start();
    const stopping = bus.stop();
    await Promise.all([starting, stopping]);
    expect(bus.state).toBe('stopped');
    expect(transport.broker.stats().life?.members ?? 0).toBe(0);

    const second = setup({ closeTransportOnStop: false });
    second.bus.subscribe({
      group: 'life2',
      handlers: [
        on(OrderPaid, async () => {
          await new Promise((r) => setTimeout(r, 50));
          finished++;
        }),
      ],
    });
    await second.bus.start();
    await second.bus.publish(OrderPaid, { orderId: 'o' });
    void second.bus.stop();
    expect(() =>
      second.bus.subscribe({ group: 'late', handlers: [on(OrderPaid, () => {})] }),
    ).toThrowError(/stopping/);
    await second.bus.stop();
    expect(finished).toBe(1);
    expect(second.bus.state).toBe('stopped');
  });

  it('reports degraded health while a subscription is not running', async () => {
    const { bus, transport } = setup();
    await bus.start();
    const subscribe = transport.subscribe.bind(transport);
    transport.subscribe = async () => {
      throw new Error('cannot join');
    };
    bus.subscribe({ group: 'broken', handlers: [on(OrderPaid, () => {})] });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await bus.health()).status).toBe('degraded');
    transport.subscribe = subscribe;
    await bus.stop();
  });

  it('forgets a subscription stopped on its own: health stays up and its group can subscribe again', async () => {
    const { bus } = setup();
    const seen: string[] = [];
    const first = bus.subscribe({
      group: 'replaced',
      handlers: [on(OrderPaid, (e) => seen.push(`first ${e.data.orderId}`))],
    });
    bus.subscribe({ group: 'other', handlers: [on(OrderPaid, () => {})] });
    await bus.start();
    await first.stop(1_000);
    const health = await bus.health();
    expect(health.status).toBe('up');
    expect(health.subscriptions.map((s) => s.group)).toEqual(['other']);
    bus.subscribe({
      group: 'replaced',
      handlers: [on(OrderPaid, (e) => seen.push(`second ${e.data.orderId}`))],
    });
    await waitFor(async () => (await bus.health()).subscriptions.every((s) => s.running));
    await bus.publish(OrderPaid, { orderId: 'o-1' });
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual(['second o-1']);
    await bus.stop();
    // A bus stopping keeps its list: its health still names every group, stopped.
    expect((await bus.health()).subscriptions.map((s) => [s.group, s.running])).toEqual([
      ['other', false],
      ['replaced', false],
    ]);
  });
});
