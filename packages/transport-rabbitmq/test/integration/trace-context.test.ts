import { type Bus, createBus, on } from '@edakit/core';
import { openTelemetry } from '@edakit/core/opentelemetry';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ConsumeMessage } from 'amqplib';
import { afterAll, expect, it } from 'vitest';
import { inMemoryTracing } from '../../../../test-support/tracing';
import { namespace, rawConnection, testTransport } from '../support/integration';

const { exporter, provider: tracerProvider } = inMemoryTracing();
const buses: Bus[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

afterAll(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.stop({ deadlineMs: 1_000 }).catch(() => {})));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const spansNamed = (name: string): ReadableSpan[] =>
  exporter.getFinishedSpans().filter((span) => span.name === name);

/**
 * The producer span's W3C trace context crosses RabbitMQ in the
 * `cloudEvents_traceparent` header: the consumer's process span is its child,
 * on the first attempt and on a retry that waited in a TTL retry queue.
 */
it('carries the trace context through the broker and its retry queue', async () => {
  const ns = namespace('trace');
  const exchange = `${ns}.events`;
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;

  // A raw reader bound next to edakit's group, to see the header on the wire.
  const raw = await rawConnection();
  cleanups.push(() => raw.close());
  const channel = await raw.createChannel();
  await channel.assertExchange(exchange, 'topic', {
    durable: true,
    arguments: { 'alternate-exchange': `${exchange}.unroutable` },
  });
  const readerQueue = `${ns}.reader`;
  await channel.assertQueue(readerQueue, { durable: false, autoDelete: true });
  await channel.bindQueue(readerQueue, exchange, contract.type);
  const wire: ConsumeMessage[] = [];
  await channel.consume(readerQueue, (message) => {
    if (message) wire.push(message);
  });

  const producer = createBus({
    transport: testTransport({ exchange }),
    source: '/it/trace-producer',
    tracing: openTelemetry({ tracerProvider }),
  });
  const consumer = createBus({
    transport: testTransport({ exchange }),
    source: '/it/trace-consumer',
    tracing: openTelemetry({ tracerProvider }),
  });
  buses.push(producer, consumer);
  let calls = 0;
  consumer.subscribe({
    group,
    retry: { immediate: 0, delayed: [100] },
    handlers: [
      on(contract, () => {
        calls++;
        if (calls === 1) throw new Error('once');
      }),
    ],
  });
  await consumer.start();

  const sent = await producer.publish(contract, { key: 'k-1', seq: 1 });
  const [processFailed, processRetried] = await waitFor(
    () => {
      const spans = spansNamed(`process ${contract.channel}`);
      return spans.length === 2 ? spans : undefined;
    },
    { timeoutMs: 30_000, description: 'a process span per attempt' },
  );
  const [send] = spansNamed(`send ${contract.channel}`);
  const sendContext = send?.spanContext();
  expect(send?.kind).toBe(SpanKind.PRODUCER);
  expect(send?.attributes).toMatchObject({
    'messaging.system': 'rabbitmq',
    'messaging.rabbitmq.destination.routing_key': contract.type,
  });
  // On the wire: the producer span's context, in the CloudEvents AMQP binding's header.
  const [message] = await waitFor(() => (wire.length > 0 ? wire : undefined));
  expect(message?.properties.headers?.cloudEvents_traceparent).toBe(
    `00-${sendContext?.traceId}-${sendContext?.spanId}-01`,
  );
  expect(sent.traceparent).toBe(message?.properties.headers?.cloudEvents_traceparent);

  for (const [span, attempt] of [
    [processFailed, 1],
    [processRetried, 2],
  ] as const) {
    expect(span?.kind).toBe(SpanKind.CONSUMER);
    expect(span?.spanContext().traceId).toBe(sendContext?.traceId);
    expect(span?.parentSpanContext).toMatchObject({ spanId: sendContext?.spanId, isRemote: true });
    expect(span?.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.consumer.group.name': group,
      'messaging.message.id': sent.id,
      'edakit.attempt': attempt,
    });
  }
  expect(processFailed?.status.message).toBe('once');
});
