import { waitFor } from '@edakit/core/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inMemoryTracing } from '../../../../test-support/tracing';
import { seedCatalog } from '../support/broker-shop';
import { dropNamespace } from '../support/cleanup';
import { startShop, type TestShop } from '../support/shop';

/**
 * SHOP_TRACING=1 over Kafka, the orders in PostgreSQL (outbox) and the saga in
 * Redis, every service in this process: what the process's OpenTelemetry SDK
 * (here an in-memory exporter) records of one order.
 */
const { exporter } = inMemoryTracing({ global: true });
let shop: TestShop;

beforeAll(async () => {
  shop = await startShop({ TRANSPORT: 'kafka', SHOP_TRACING: '1' });
  await seedCatalog(shop.shop, shop.shop);
});

afterAll(async () => {
  if (shop) {
    await shop.stop();
    await dropNamespace(shop.config);
  }
});

const type = (span: ReadableSpan) => span.attributes['cloudevents.event_type'];
const group = (span: ReadableSpan) => span.attributes['messaging.consumer.group.name'];
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

describe('tracing over Kafka', () => {
  it('one POST /orders is one trace: the request, the outbox, Kafka, the saga and its participants', async () => {
    const orderId = await shop.shop.placeOrder('ada', [{ productId: 'mug', quantity: 1 }]);

    // The order.created the request wrote to the outbox, in the request's transaction.
    const created = await waitFor(
      () =>
        exporter
          .getFinishedSpans()
          .find(
            (span) =>
              type(span) === 'order.created' &&
              span.attributes['messaging.message.conversation_id'] === orderId,
          ),
      { timeoutMs: 30_000, description: 'the order.created create span' },
    );
    const traceId = created.spanContext().traceId;
    const spans = () =>
      exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    /** Every span the test walks through, from the request on. */
    const path: ReadableSpan[] = [created];
    /** The first span of the trace under `parent` that matches (waits for it). */
    const childOf = async (
      parent: ReadableSpan,
      description: string,
      match: (s: ReadableSpan) => boolean,
    ) => {
      const child = await waitFor(
        () =>
          spans().find((span) => span.parentSpanContext?.spanId === idOf(parent) && match(span)),
        { timeoutMs: 60_000, description },
      );
      path.push(child);
      return child;
    };
    const processed = (parent: ReadableSpan, eventType: string, by: string) =>
      childOf(
        parent,
        `${by} processing ${eventType}`,
        (span) => span.kind === SpanKind.CONSUMER && type(span) === eventType && group(span) === by,
      );
    const published = (parent: ReadableSpan, eventType: string, operation: 'create' | 'send') =>
      childOf(
        parent,
        `${operation} ${eventType}`,
        (span) =>
          span.kind === SpanKind.PRODUCER &&
          type(span) === eventType &&
          span.attributes['messaging.operation.type'] === operation,
      );

    // The HTTP request is the trace's root; the event was created inside it.
    const request = await waitFor(
      () => spans().find((span) => idOf(span) === created.parentSpanContext?.spanId),
      { description: 'the request span' },
    );
    path.push(request);
    expect(request).toMatchObject({
      name: 'POST /orders',
      kind: SpanKind.SERVER,
      parentSpanContext: undefined,
      attributes: {
        'http.request.method': 'POST',
        'http.route': '/orders',
        'url.path': '/orders',
        'http.response.status_code': 201,
      },
    });
    expect(created).toMatchObject({
      name: 'create order',
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'create',
        'messaging.destination.name': 'order',
        'messaging.kafka.message.key': orderId,
        'cloudevents.event_source': '/services/orders',
      },
    });

    // The outbox relay sent the stored row over Kafka: the saga's span is the create span's child.
    const sagaStart = await processed(created, 'order.created', 'saga.order');
    expect(sagaStart).toMatchObject({
      name: 'process order',
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': 'order',
        'edakit.handler': 'order/order.created',
        'edakit.attempt': 1,
      },
    });
    expect(sagaStart.links.map((link) => link.context.spanId)).toEqual([idOf(created)]);
    // Other groups read the same event in the same trace.
    await processed(created, 'order.created', 'customers');

    // Each saga step: a span of its own under the saga's process span, in which the saga
    // creates the command (its outbox relays it); the participant processes it and sends
    // the reply, the saga processes the reply and takes the next step.
    const sagaStep = (parent: ReadableSpan, name: string) =>
      childOf(parent, `saga step ${name}`, (span) => span.name === `saga order ${name}`);
    const steps = [
      {
        name: 'reserve-inventory',
        command: 'inventory.reserve',
        participant: 'inventory',
        reply: 'inventory.reserved',
      },
      {
        name: 'charge-payment',
        command: 'payment.charge',
        participant: 'payment',
        reply: 'payment.processed',
      },
      {
        name: 'create-shipment',
        command: 'shipping.create',
        participant: 'shipping',
        reply: 'shipment.started',
      },
    ];
    let sagaTurn = sagaStart;
    let stepName = 'reserve-inventory';
    for (const step of steps) {
      const taken = await sagaStep(sagaTurn, stepName);
      expect(taken.attributes).toMatchObject({
        'edakit.saga.name': 'order',
        'edakit.saga.id': orderId,
        'edakit.saga.trigger': 'event',
        'edakit.saga.result': 'applied',
        'edakit.saga.status': 'running',
      });
      const command = await published(taken, step.command, 'create');
      expect(command.name).toBe(`create ${step.command.split('.')[0]}`);
      const handled = await processed(command, step.command, step.participant);
      expect(handled.attributes['edakit.handler']).toBe(`${step.participant}/${step.command}`);
      const reply = await published(handled, step.reply, 'send');
      expect(reply.attributes['edakit.causation_id']).toBe(
        handled.attributes['messaging.message.id'],
      );
      sagaTurn = await processed(reply, step.reply, 'saga.order');
      expect(sagaTurn.attributes['edakit.handler']).toBe(`order/${step.reply}`);
      stepName = step.name;
    }
    // The last reply is the last step's success: the saga completes, sending nothing.
    const last = await sagaStep(sagaTurn, 'create-shipment');
    expect(last.attributes).toMatchObject({
      'cloudevents.event_type': 'shipment.started',
      'edakit.saga.status': 'completed',
      'edakit.saga.sent_count': 0,
    });

    // One trace with one root, the request; nothing on the way failed.
    expect(spans().filter((span) => span.parentSpanContext === undefined)).toEqual([request]);
    expect(path).toHaveLength(2 + 1 + 1 + steps.length * 5 + 1);
    expect(path.filter((span) => span.status.code !== SpanStatusCode.UNSET)).toEqual([]);

    // Every group reads whole topics: the types it does not handle are skipped, never dead-lettered.
    const metrics = await (await fetch(`${shop.host.http.url}/metrics`)).text();
    expect(
      metrics.split('\n').filter((line) => line.startsWith('edakit_dead_letters_total{')),
    ).toEqual([]);
  });
});
