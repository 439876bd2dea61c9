import { openTelemetry } from '@edakit/core/opentelemetry';
import { waitFor } from '@edakit/core/testing';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { inMemoryTracing } from '../../../../test-support/tracing';
import { startMemoryOrderShop } from '../support/memory-order-shop';
import { OrderCreated, ShipmentCreated } from '../support/order-saga';

const { exporter, provider } = inMemoryTracing();

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  exporter.reset();
});

const setup = (options: Parameters<typeof startMemoryOrderShop>[1] = {}) =>
  startMemoryOrderShop(stops, options);

const items = [{ sku: 'sku-1', quantity: 2 }];
const traceparentOf = (span: ReadableSpan) =>
  `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;

/** Runs o-1 (completes), o-2 (payment declined) and o-3 (shipping times out) to their end. */
async function runThreeOrders(shop: Awaited<ReturnType<typeof setup>>, traceparent?: string) {
  const { bus, runtime, participants, clock, sent } = shop;
  participants.failPayment.add('o-2');
  participants.silentShipping.add('o-3');
  const options = traceparent === undefined ? {} : { traceparent };
  for (const orderId of ['o-1', 'o-2', 'o-3']) {
    await bus.publish(OrderCreated, { orderId, items, total: 40 }, options);
  }
  await waitFor(() => participants.received.includes('shipping.create o-3'), { timeoutMs: 5000 });
  await waitFor(() => sent('o-1').some((m) => m.type === 'order.confirmed'), { timeoutMs: 5000 });
  await waitFor(() => sent('o-2').some((m) => m.type === 'order.cancelled'), { timeoutMs: 5000 });
  clock.advance(2_001);
  await waitFor(async () => (await runtime.get('order', 'o-3'))?.status === 'compensated', {
    timeoutMs: 5000,
  });
  await waitFor(() => sent('o-3').some((m) => m.type === 'order.cancelled'), { timeoutMs: 5000 });
}

describe('saga runtime: observer', () => {
  it('reports each instance started, each finished with its status, and each timer fired', async () => {
    const calls: string[] = [];
    const shop = await setup({
      observer: {
        onSagaStarted: ({ saga }) => calls.push(`started ${saga}`),
        onSagaFinished: ({ saga, status }) => calls.push(`finished ${saga} ${status}`),
        onSagaTimeout: ({ saga, kind }) => calls.push(`timeout ${saga} ${kind}`),
      },
    });
    await runThreeOrders(shop);
    // A redelivered start event changes nothing, so reports nothing.
    await shop.bus.publish(OrderCreated, { orderId: 'o-1', items, total: 40 });
    await waitFor(() => shop.participants.received.length > 0);
    expect(calls.filter((call) => call.startsWith('started'))).toEqual([
      'started order',
      'started order',
      'started order',
    ]);
    expect(await shop.runtime.instanceCounts()).toEqual([
      { saga: 'order', status: 'running', count: 0 },
      { saga: 'order', status: 'completed', count: 1 },
      { saga: 'order', status: 'compensated', count: 2 },
    ]);
    expect(calls.filter((call) => !call.startsWith('started')).sort()).toEqual([
      'finished order compensated',
      'finished order compensated',
      'finished order completed',
      'timeout order reply',
    ]);
  });

  it('an observer that throws is logged and never fails the step nor stops the others; observe() attaches and detaches', async () => {
    const warnings: string[] = [];
    const quiet = () => {};
    const shop = await setup({
      observer: {
        onSagaStarted: () => {
          throw new Error('metrics backend down');
        },
      },
      logger: {
        debug: quiet,
        info: quiet,
        warn: (fields, message) => warnings.push(`${message}: ${String(fields.error)}`),
        error: quiet,
      },
    });
    const started: string[] = [];
    const detach = shop.runtime.observe({ onSagaStarted: ({ saga }) => started.push(saga) });
    await shop.bus.publish(OrderCreated, { orderId: 'o-9', items, total: 40 });
    await waitFor(async () => (await shop.runtime.get('order', 'o-9'))?.status === 'completed', {
      timeoutMs: 5000,
    });
    expect(warnings).toEqual(['saga observer threw: metrics backend down']);
    expect(started).toEqual(['order']);
    detach();
    await shop.bus.publish(OrderCreated, { orderId: 'o-10', items, total: 40 });
    await waitFor(async () => (await shop.runtime.get('order', 'o-10'))?.status === 'completed', {
      timeoutMs: 5000,
    });
    expect(started).toEqual(['order']);
    expect(warnings).toHaveLength(2);
  });
});

describe('saga runtime: trace context', () => {
  it('without a tracer, every command carries the trace context of the event that caused it, a timer’s that of the step that set it', async () => {
    const shop = await setup({});
    const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await runThreeOrders(shop, given);
    for (const orderId of ['o-1', 'o-2', 'o-3']) {
      const messages = shop.sent(orderId);
      expect(messages.length).toBeGreaterThan(3);
      for (const message of messages) {
        expect({ type: message.type, traceparent: message.message.headers.ce_traceparent }).toEqual(
          { type: message.type, traceparent: given },
        );
      }
    }
    // The timer's commands (o-3's compensation) kept it too: the instance stored it.
    expect((await shop.runtime.get('order', 'o-3'))?.traceparent).toBe(given);
  });

  it('each step takes the trace context of its own event, both fields: a reply with another, or none, replaces the stored one', async () => {
    const shop = await setup({});
    const first = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const second = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    for (const orderId of ['o-t', 'o-u']) {
      shop.participants.silentShipping.add(orderId);
      await shop.bus.publish(
        OrderCreated,
        { orderId, items, total: 40 },
        { traceparent: first, tracestate: 'vendor=one' },
      );
    }
    await waitFor(
      () =>
        shop.participants.received.includes('shipping.create o-t') &&
        shop.participants.received.includes('shipping.create o-u'),
      { timeoutMs: 5000 },
    );
    const header = (orderId: string, type: string) => {
      const headers = shop.sent(orderId).find((m) => m.type === type)?.message.headers ?? {};
      return [headers.ce_traceparent, headers.ce_tracestate];
    };
    expect(header('o-t', 'shipping.create')).toEqual([first, 'vendor=one']);
    expect(await shop.runtime.get('order', 'o-t')).toMatchObject({
      traceparent: first,
      tracestate: 'vendor=one',
    });
    // The replies come from elsewhere (the saga id as their correlation id, as replies do):
    // one in another trace without a tracestate, one untraced.
    await shop.bus.publish(
      ShipmentCreated,
      { orderId: 'o-t', trackingId: 't-1' },
      { correlationId: 'o-t', traceparent: second },
    );
    await shop.bus.publish(
      ShipmentCreated,
      { orderId: 'o-u', trackingId: 't-2' },
      { correlationId: 'o-u' },
    );
    await waitFor(
      () => ['o-t', 'o-u'].every((id) => shop.sentFor(id).includes('order.confirmed')),
      { timeoutMs: 5000 },
    );
    expect(header('o-t', 'order.confirmed')).toEqual([second, undefined]);
    expect(header('o-u', 'order.confirmed')).toEqual([undefined, undefined]);
    const t = await shop.runtime.get('order', 'o-t');
    expect([t?.traceparent, t?.tracestate]).toEqual([second, undefined]);
    const u = await shop.runtime.get('order', 'o-u');
    expect([u?.traceparent, u?.tracestate]).toEqual([undefined, undefined]);
  });

  it('with openTelemetry, each step is a span under the event’s process span, and a timer’s step continues the trace', async () => {
    const tracing = openTelemetry({ tracerProvider: provider });
    const shop = await setup({ tracing });
    await runThreeOrders(shop);
    const spans = exporter.getFinishedSpans();
    const steps = (orderId: string) =>
      spans.filter((span) => span.attributes['edakit.saga.id'] === orderId);
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));

    // o-1: a start and three replies, each step under the process span of its event.
    expect(steps('o-1').map((span) => span.name)).toEqual([
      'saga order reserve-inventory',
      'saga order reserve-inventory',
      'saga order charge-payment',
      'saga order create-shipment',
    ]);
    for (const step of steps('o-1')) {
      const parent = byId.get(step.parentSpanContext?.spanId ?? '');
      expect(parent?.name.startsWith('process '), step.name).toBe(true);
      expect(parent?.attributes['messaging.consumer.group.name']).toBe('saga.order');
      expect(step.attributes['edakit.saga.result']).toBe('applied');
    }
    const last = steps('o-1').at(-1) as ReadableSpan;
    expect(last.attributes).toMatchObject({
      'edakit.saga.trigger': 'event',
      'edakit.saga.status': 'completed',
      'cloudevents.event_type': 'shipping.created',
      'edakit.saga.sent_count': 1,
    });
    // One trace per order, from its creation to its confirmation.
    const traceOf = (orderId: string) =>
      new Set(steps(orderId).map((s) => s.spanContext().traceId));
    expect(traceOf('o-1').size).toBe(1);
    expect(traceOf('o-3').size).toBe(1);
    expect([...traceOf('o-1')]).not.toEqual([...traceOf('o-2')]);
    const confirmed = shop.sent('o-1').find((m) => m.type === 'order.confirmed');
    const confirmedCreate = spans.find(
      (span) =>
        span.name === 'create order' &&
        traceparentOf(span) === confirmed?.message.headers.ce_traceparent,
    );
    expect(confirmedCreate?.parentSpanContext?.spanId).toBe(last.spanContext().spanId);

    // o-3: the timer fires with no event; its step is a child of the step that set the timer.
    const timeout = steps('o-3').find(
      (span) => span.attributes['edakit.saga.trigger'] === 'timeout',
    );
    const setter = steps('o-3').find((span) => span.name === 'saga order charge-payment');
    expect(timeout?.name).toBe('saga order create-shipment');
    expect(timeout?.attributes).toMatchObject({
      'edakit.saga.status': 'compensated',
      'edakit.saga.sent_count': 4,
    });
    expect(timeout?.spanContext().traceId).toBe(steps('o-3')[0]?.spanContext().traceId);
    expect(timeout?.parentSpanContext?.spanId).toBe(setter?.spanContext().spanId);
    const compensations = shop
      .sent('o-3')
      .filter((m) => ['shipping.cancel', 'payment.refund', 'inventory.release'].includes(m.type));
    expect(compensations).toHaveLength(3);
    for (const message of compensations) {
      const create = spans.find(
        (span) => traceparentOf(span) === message.message.headers.ce_traceparent,
      );
      expect(create?.parentSpanContext?.spanId, message.type).toBe(timeout?.spanContext().spanId);
    }
  });
});
