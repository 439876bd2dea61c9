import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { BusOptions } from '../bus/bus-options';
import { createBus } from '../bus/create-bus';
import { defineEvent } from '../contract/define-event';
import { ErrorCodes } from '../errors/error-codes';
import { on } from '../handler/handler';
import { InMemoryTransport } from '../memory/in-memory-transport';
import type { Middleware } from '../middleware/middleware';
import { waitFor } from '../testing/wait-for';
import type { OutgoingMessage, Transport } from '../transport/transport';
import { openTelemetry, SpanAttributes, TRACER_NAME } from './open-telemetry';

const OrderPlaced = defineEvent({
  type: 'order.placed',
  schema: z.object({ orderId: z.string() }),
  description: 'placed',
  partitionKey: (order) => order.orderId,
});
const PaymentRequested = defineEvent({
  type: 'payment.requested',
  schema: z.object({ orderId: z.string() }),
  description: 'requested',
  partitionKey: (payment) => payment.orderId,
});

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
const tracer = provider.getTracer('test');

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
  trace.disable();
});

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  exporter.reset();
  trace.disable();
});

/** A traced bus over a memory transport that keeps what it was asked to publish. */
function setup(options: Partial<BusOptions> = {}) {
  const transport = new InMemoryTransport();
  const sent: OutgoingMessage[] = [];
  const publish = transport.publish.bind(transport);
  transport.publish = async (messages) => {
    sent.push(...messages);
    return publish(messages);
  };
  const bus = createBus({
    transport,
    source: '/services/orders',
    tracing: openTelemetry({ tracerProvider: provider }),
    retry: { immediate: 0, delayed: [] },
    ...options,
  });
  stops.push(() => bus.stop());
  return { bus, sent, transport };
}

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const named = (name: string): ReadableSpan[] => spans().filter((span) => span.name === name);
const one = (name: string): ReadableSpan => {
  const found = named(name);
  if (found.length !== 1) {
    throw new Error(`${found.length} spans named "${name}": ${spans().map((s) => s.name)}`);
  }
  return found[0] as ReadableSpan;
};
const traceparentOf = (span: ReadableSpan) =>
  `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;

describe('openTelemetry: publishing', () => {
  it('publish: a PRODUCER span "send <channel>" whose context the envelope and the wire carry', async () => {
    const { bus, sent } = setup();
    const envelope = await bus.publish(OrderPlaced, { orderId: 'o-1' }, { correlationId: 'c-1' });
    const span = one('send order');
    expect(span.kind).toBe(SpanKind.PRODUCER);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.instrumentationScope.name).toBe(TRACER_NAME);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toEqual({
      'messaging.system': 'memory',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': 'order',
      'messaging.message.id': envelope.id,
      'messaging.message.conversation_id': 'c-1',
      'cloudevents.event_id': envelope.id,
      'cloudevents.event_source': '/services/orders',
      'cloudevents.event_spec_version': '1.0',
      'cloudevents.event_type': 'order.placed',
    });
    expect(envelope.traceparent).toBe(traceparentOf(span));
    expect(sent[0]?.message.headers.ce_traceparent).toBe(traceparentOf(span));
    expect(sent[0]?.message.headers).not.toHaveProperty('ce_tracestate');
  });

  it('prepare: a PRODUCER span "create <channel>" ended at once, a child of the active span (an HTTP request)', async () => {
    const { bus, sent } = setup();
    const prepared = tracer.startActiveSpan('POST /orders', { kind: SpanKind.SERVER }, (span) => {
      try {
        return bus.prepare(OrderPlaced, { orderId: 'o-2' });
      } finally {
        span.end();
      }
    });
    const server = one('POST /orders');
    const create = one('create order');
    expect(create.kind).toBe(SpanKind.PRODUCER);
    expect(create.spanContext().traceId).toBe(server.spanContext().traceId);
    expect(create.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(create.attributes).toMatchObject({
      'messaging.operation.type': 'create',
      'messaging.message.id': prepared.envelope.id,
    });
    // What an outbox stores is the create span's context.
    expect(prepared.envelope.traceparent).toBe(traceparentOf(create));
    expect(prepared.outgoing.message.headers.ce_traceparent).toBe(traceparentOf(create));

    // publishBatch sends prepared events under a CLIENT span linked to each event's context.
    const second = bus.prepare(PaymentRequested, { orderId: 'o-2' });
    await bus.publishBatch([prepared, second]);
    const batch = one('send');
    expect(batch.kind).toBe(SpanKind.CLIENT);
    expect(batch.attributes).toMatchObject({
      'messaging.operation.type': 'send',
      'messaging.batch.message_count': 2,
    });
    expect(batch.attributes).not.toHaveProperty('messaging.destination.name');
    expect(batch.links.map((link) => link.context.spanId)).toEqual([
      create.spanContext().spanId,
      named('create payment')[0]?.spanContext().spanId,
    ]);
    expect(batch.links[0]?.attributes).toEqual({
      'messaging.message.id': prepared.envelope.id,
    });
    expect(sent.map((outgoing) => outgoing.message.headers.ce_traceparent)).toEqual([
      prepared.envelope.traceparent,
      second.envelope.traceparent,
    ]);
    await bus.publishBatch([bus.prepare(OrderPlaced, { orderId: 'o-3' })]);
    expect(one('send order').attributes).toMatchObject({
      'messaging.destination.name': 'order',
      'messaging.batch.message_count': 1,
    });
    expect(await bus.publishBatch([])).toEqual([]);
  });

  it('continues a traceparent (and tracestate) given in the options when no span is active', async () => {
    const { bus } = setup();
    const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const envelope = await bus.publish(
      OrderPlaced,
      { orderId: 'o-4' },
      { traceparent: given, tracestate: 'vendor=abc' },
    );
    const span = one('send order');
    expect(span.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span.parentSpanContext).toMatchObject({ spanId: '00f067aa0ba902b7', isRemote: true });
    expect(envelope.traceparent).toBe(traceparentOf(span));
    expect(envelope.tracestate).toBe('vendor=abc');
  });

  it('a refused publish ends its span with the error', async () => {
    const { bus, transport } = setup();
    const refusing = transport as Transport;
    refusing.publish = async () => {
      throw new Error('broker says no');
    };
    await expect(bus.publish(OrderPlaced, { orderId: 'o-5' })).rejects.toMatchObject({
      code: ErrorCodes.PUBLISH_FAILED,
    });
    await expect(
      bus.publishBatch([bus.prepare(OrderPlaced, { orderId: 'o-6' })]),
    ).rejects.toMatchObject({ code: ErrorCodes.PUBLISH_FAILED });
    for (const span of [...named('send order')]) {
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.status.message).toMatch(/broker says no/);
      expect(span.attributes[SpanAttributes.errorType]).toBe(ErrorCodes.PUBLISH_FAILED);
      expect(span.events.map((event) => event.name)).toEqual(['exception']);
    }
    expect(named('send order')).toHaveLength(2);
  });

  it('an envelope that cannot be made ends its span with the error; bad data makes no span', async () => {
    const { bus } = setup();
    expect(() => bus.prepare(OrderPlaced, { orderId: 'o-7' }, { id: '' })).toThrowError(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTIONS }),
    );
    await expect(bus.publish(OrderPlaced, { orderId: 'o-7' }, { id: '' })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_OPTIONS,
    });
    expect(spans().map((span) => [span.name, span.attributes[SpanAttributes.errorType]])).toEqual([
      ['create order', ErrorCodes.INVALID_OPTIONS],
      ['send order', ErrorCodes.INVALID_OPTIONS],
    ]);
    expect(() => bus.prepare(OrderPlaced, { orderId: 7 } as never)).toThrowError();
    expect(spans()).toHaveLength(2);
  });

  it('uses the global tracer provider by default, even one registered later', async () => {
    const transport = new InMemoryTransport();
    const bus = createBus({ transport, source: '/services/orders', tracing: openTelemetry() });
    stops.push(() => bus.stop());
    trace.setGlobalTracerProvider(provider);
    await bus.publish(OrderPlaced, { orderId: 'o-8' });
    expect(one('send order').instrumentationScope.name).toBe(TRACER_NAME);
  });

  it('without an SDK nothing is recorded and a given trace context passes through', async () => {
    const bus = createBus({
      transport: new InMemoryTransport(),
      source: '/services/orders',
      tracing: openTelemetry(),
    });
    stops.push(() => bus.stop());
    const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const passed = await bus.publish(OrderPlaced, { orderId: 'o-9' }, { traceparent: given });
    const none = await bus.publish(OrderPlaced, { orderId: 'o-9' });
    expect(passed.traceparent).toBe(given);
    expect(none.traceparent).toBeUndefined();
    expect(spans()).toEqual([]);
  });
});

describe('openTelemetry: handling', () => {
  it('a CONSUMER span "process <channel>" per handler attempt: child of the producer, linked to it', async () => {
    const { bus } = setup();
    const active: (string | undefined)[] = [];
    bus.subscribe({
      group: 'billing',
      handlers: [
        on(OrderPlaced, () => {
          active.push(trace.getActiveSpan()?.spanContext().spanId);
        }),
      ],
    });
    await bus.start();
    const envelope = await bus.publish(OrderPlaced, { orderId: 'o-10' });
    await waitFor(() => named('process order').length === 1 || undefined);
    const producer = one('send order');
    const consumer = one('process order');
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(consumer.links.map((link) => link.context.spanId)).toEqual([
      producer.spanContext().spanId,
    ]);
    expect(consumer.attributes).toMatchObject({
      'messaging.system': 'memory',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': 'order',
      'messaging.consumer.group.name': 'billing',
      'messaging.message.id': envelope.id,
      'cloudevents.event_type': 'order.placed',
      'edakit.handler': 'billing/order.placed',
      'edakit.attempt': 1,
    });
    expect(consumer.status.code).toBe(SpanStatusCode.UNSET);
    // The handler ran inside its span.
    expect(active).toEqual([consumer.spanContext().spanId]);
  });

  it('ctx.publish in a handler continues the trace: send under process, and the next process under it', async () => {
    const { bus } = setup();
    bus.subscribe({
      group: 'billing',
      handlers: [
        on(OrderPlaced, (event, ctx) =>
          ctx.publish(PaymentRequested, { orderId: event.data.orderId }),
        ),
      ],
    });
    bus.subscribe({ group: 'payments', handlers: [on(PaymentRequested, () => {})] });
    await bus.start();
    await bus.publish(OrderPlaced, { orderId: 'o-11' });
    await waitFor(() => named('process payment').length === 1 || undefined);
    const [placed, processPlaced, requested, processRequested] = [
      one('send order'),
      one('process order'),
      one('send payment'),
      one('process payment'),
    ];
    const traceId = placed.spanContext().traceId;
    for (const span of [processPlaced, requested, processRequested]) {
      expect(span.spanContext().traceId).toBe(traceId);
    }
    expect(requested.parentSpanContext?.spanId).toBe(processPlaced.spanContext().spanId);
    expect(processRequested.parentSpanContext?.spanId).toBe(requested.spanContext().spanId);
    expect(requested.attributes[SpanAttributes.causationId]).toBe(
      processPlaced.attributes[SpanAttributes.messageId],
    );
  });

  it('each retry is a span of its own (attempt 1, 2, 3), the failures recorded', async () => {
    const { bus } = setup({ retry: { immediate: 1, delayed: [5] } });
    let calls = 0;
    bus.subscribe({
      group: 'billing',
      handlers: [
        on(OrderPlaced, () => {
          calls++;
          if (calls < 3) throw new TypeError(`flaky ${calls}`);
        }),
      ],
    });
    await bus.start();
    await bus.publish(OrderPlaced, { orderId: 'o-12' });
    await waitFor(() => named('process order').length === 3 || undefined);
    const producer = one('send order');
    const attempts = named('process order').sort(
      (a, b) => Number(a.attributes['edakit.attempt']) - Number(b.attributes['edakit.attempt']),
    );
    expect(attempts.map((span) => span.attributes['edakit.attempt'])).toEqual([1, 2, 3]);
    expect(attempts.map((span) => span.status.code)).toEqual([
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
      SpanStatusCode.UNSET,
    ]);
    expect(attempts[0]?.status.message).toBe('flaky 1');
    expect(attempts[0]?.attributes[SpanAttributes.errorType]).toBe('TypeError');
    expect(attempts[0]?.events[0]).toMatchObject({
      name: 'exception',
      attributes: { 'exception.type': 'TypeError', 'exception.message': 'flaky 1' },
    });
    expect(attempts[2]?.events).toEqual([]);
    // The delayed retry (attempt 3) is still a child of the producer's span.
    for (const span of attempts) {
      expect(span.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    }
  });

  it('is the outermost middleware: the bus middleware runs inside the span, and what it throws is recorded', async () => {
    const seen: (string | undefined)[] = [];
    const refuse: Middleware = async () => {
      seen.push(trace.getActiveSpan()?.spanContext().spanId);
      throw 'no string errors';
    };
    const { bus } = setup({ middleware: [refuse] });
    bus.subscribe({ group: 'billing', handlers: [on(OrderPlaced, () => {})] });
    await bus.start();
    await bus.publish(OrderPlaced, { orderId: 'o-13' });
    await waitFor(() => named('process order').length === 1 || undefined);
    const consumer = one('process order');
    expect(seen).toEqual([consumer.spanContext().spanId]);
    expect(consumer.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no string errors' });
    expect(consumer.attributes[SpanAttributes.errorType]).toBe('string');
  });

  it('an event without trace context starts a trace of its own, never the ambient one', async () => {
    const { bus, transport } = setup();
    const legacy = createBus({ transport, source: '/legacy', closeTransportOnStop: false });
    stops.push(() => legacy.stop());
    bus.subscribe({ group: 'billing', handlers: [on(OrderPlaced, () => {})] });
    await bus.start();
    await tracer.startActiveSpan('ambient', async (span) => {
      await legacy.publish(OrderPlaced, { orderId: 'o-14' });
      await waitFor(() => named('process order').length === 1 || undefined);
      span.end();
    });
    const consumer = one('process order');
    expect(consumer.parentSpanContext).toBeUndefined();
    expect(consumer.links).toEqual([]);
    expect(consumer.spanContext().traceId).not.toBe(one('ambient').spanContext().traceId);
  });

  it('names the Kafka key and the RabbitMQ routing key on their transports', async () => {
    for (const name of ['kafka', 'rabbitmq']) {
      const transport = new InMemoryTransport();
      Object.defineProperty(transport, 'name', { value: name });
      const { bus } = setup({ transport });
      await bus.publish(OrderPlaced, { orderId: 'o-15' }, { subject: 'orders/o-15' });
    }
    const [kafka, rabbitmq] = named('send order');
    expect(kafka?.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.kafka.message.key': 'o-15',
      'cloudevents.event_subject': 'orders/o-15',
    });
    expect(rabbitmq?.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.rabbitmq.destination.routing_key': 'order.placed',
    });
    expect(rabbitmq?.attributes).not.toHaveProperty('messaging.kafka.message.key');
  });
});

describe('openTelemetry: saga steps', () => {
  it('an INTERNAL span "saga <name> <step>" under the process span; what the step prepares is its child', async () => {
    const tracing = openTelemetry({ tracerProvider: provider });
    const { bus } = setup({ tracing });
    let carried: string | undefined;
    let prepared: string | undefined;
    bus.subscribe({
      group: 'saga.order',
      handlers: [
        on(OrderPlaced, (event) =>
          tracing.sagaStep(
            {
              saga: 'order',
              sagaId: event.data.orderId,
              trigger: 'event',
              eventType: event.type,
              eventId: event.id,
            },
            async (step) => {
              carried = step.traceparent;
              prepared = bus.prepare(PaymentRequested, { orderId: event.data.orderId }).envelope
                .traceparent;
              step.record({ result: 'applied', step: 'payment', status: 'running', sent: 1 });
            },
          ),
        ),
      ],
    });
    await bus.start();
    const placed = await bus.publish(OrderPlaced, { orderId: 'o-s1' });
    await waitFor(() => named('saga order payment').length === 1);
    const process = one('process order');
    const step = one('saga order payment');
    const create = one('create payment');
    expect(step.kind).toBe(SpanKind.INTERNAL);
    expect(step.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
    expect(step.spanContext().traceId).toBe(process.spanContext().traceId);
    expect(step.attributes).toEqual({
      'edakit.saga.name': 'order',
      'edakit.saga.id': 'o-s1',
      'edakit.saga.trigger': 'event',
      'edakit.saga.step': 'payment',
      'edakit.saga.result': 'applied',
      'edakit.saga.status': 'running',
      'edakit.saga.sent_count': 1,
      'cloudevents.event_type': 'order.placed',
      'cloudevents.event_id': placed.id,
    });
    expect(carried).toBe(traceparentOf(step));
    expect(create.parentSpanContext?.spanId).toBe(step.spanContext().spanId);
    expect(prepared).toBe(traceparentOf(create));
  });

  it('a timer step continues the trace context it was given, even under another active span; a failed step records its error', async () => {
    const tracing = openTelemetry({ tracerProvider: provider });
    const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    // Fired by hand from an HTTP request: the request is not the timer's trace.
    const result = await tracer.startActiveSpan('POST /admin/fire-timers', async (request) => {
      try {
        return await tracing.sagaStep(
          {
            saga: 'order',
            sagaId: 'o-s2',
            trigger: 'timeout',
            eventId: 'token-1',
            traceparent: given,
          },
          async (step) => {
            step.record({ result: 'duplicate' });
            return 42;
          },
        );
      } finally {
        request.end();
      }
    });
    expect(result).toBe(42);
    const step = one('saga order');
    expect(step.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(step.parentSpanContext).toMatchObject({ spanId: '00f067aa0ba902b7', isRemote: true });
    expect(step.attributes).toMatchObject({
      'edakit.saga.trigger': 'timeout',
      'edakit.saga.result': 'duplicate',
      'cloudevents.event_id': 'token-1',
    });
    expect(step.attributes).not.toHaveProperty('edakit.saga.step');

    await expect(
      tracer.startActiveSpan('poll', (poll) =>
        tracing
          .sagaStep({ saga: 'order', sagaId: 'o-s3', trigger: 'timeout' }, async () => {
            throw new Error('store down');
          })
          .finally(() => poll.end()),
      ),
    ).rejects.toThrowError('store down');
    const failed = spans().find((span) => span.attributes['edakit.saga.id'] === 'o-s3');
    expect(failed?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'store down' });
    expect(failed?.parentSpanContext).toBeUndefined();
  });
});

describe('a bus without tracing', () => {
  it('records nothing and writes no trace context, even with an SDK registered', async () => {
    trace.setGlobalTracerProvider(provider);
    const transport = new InMemoryTransport();
    const sent: OutgoingMessage[] = [];
    const publish = transport.publish.bind(transport);
    transport.publish = async (messages) => {
      sent.push(...messages);
      return publish(messages);
    };
    const bus = createBus({ transport, source: '/services/orders' });
    stops.push(() => bus.stop());
    const handled: (string | undefined)[] = [];
    bus.subscribe({
      group: 'billing',
      handlers: [
        on(OrderPlaced, (event, ctx) => {
          handled.push(event.traceparent);
          return ctx.publish(PaymentRequested, { orderId: event.data.orderId });
        }),
      ],
    });
    await bus.start();
    const plain = await bus.publish(OrderPlaced, { orderId: 'o-16' });
    const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await tracer.startActiveSpan('ambient', async (span) => {
      await bus.publish(OrderPlaced, { orderId: 'o-17' }, { traceparent: given });
      span.end();
    });
    await waitFor(() => sent.length === 4 || undefined);
    expect(plain.traceparent).toBeUndefined();
    expect(sent[0]?.message.headers).not.toHaveProperty('ce_traceparent');
    // A given trace context passes through unchanged, and ctx.publish carries it forward.
    expect(handled).toHaveLength(2);
    expect(handled).toContain(undefined);
    expect(handled).toContain(given);
    expect(
      sent
        .filter((m) => m.type === 'payment.requested')
        .map((m) => m.message.headers.ce_traceparent),
    ).toEqual(expect.arrayContaining([undefined, given]));
    expect(spans().map((span) => span.name)).toEqual(['ambient']);
  });
});
