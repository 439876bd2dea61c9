import { type Bus, createBus, on } from '@edakit/core';
import { openTelemetry } from '@edakit/core/opentelemetry';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, expect, it } from 'vitest';
import { inMemoryTracing } from '../../../../test-support/tracing';
import { namespace, rawKafka, readTopic, startHealthy, stopAll } from '../support/integration';
import { testTransport } from '../support/kafka-factory';

const { exporter, provider: tracerProvider } = inMemoryTracing();
const buses: Bus[] = [];

afterAll(() => stopAll(buses));

const spansNamed = (name: string): ReadableSpan[] =>
  exporter.getFinishedSpans().filter((span) => span.name === name);

/**
 * The producer span's W3C trace context crosses Kafka in the `ce_traceparent`
 * header: the consumer's process span is its child, on the first attempt and on
 * a retry that went through a retry topic.
 */
it('carries the trace context through the broker and its retry topic', async () => {
  const ns = namespace('trace');
  const contract = conformanceContract(ns);
  const producer = createBus({
    transport: testTransport(),
    source: '/it/trace-producer',
    tracing: openTelemetry({ tracerProvider }),
  });
  const consumer = createBus({
    transport: testTransport(),
    source: '/it/trace-consumer',
    tracing: openTelemetry({ tracerProvider }),
  });
  buses.push(producer, consumer);
  let calls = 0;
  consumer.subscribe({
    group: `${ns}-g`,
    startFrom: 'earliest',
    retry: { immediate: 0, delayed: [100] },
    handlers: [
      on(contract, () => {
        calls++;
        if (calls === 1) throw new Error('once');
      }),
    ],
  });
  await startHealthy(consumer);

  const sent = await producer.publish(contract, { key: 'k-1', seq: 1 });
  const [processFailed, processRetried] = await waitFor(
    () => {
      const spans = spansNamed(`process ${contract.channel}`);
      return spans.length === 2 ? spans : undefined;
    },
    { timeoutMs: 60_000, description: 'a process span per attempt' },
  );
  const [send] = spansNamed(`send ${contract.channel}`);
  const sendContext = send?.spanContext();
  expect(send?.kind).toBe(SpanKind.PRODUCER);
  expect(send?.attributes).toMatchObject({
    'messaging.system': 'kafka',
    'messaging.destination.name': contract.channel,
    'messaging.kafka.message.key': 'k-1',
  });
  // On the wire: the producer span's context, in the CloudEvents Kafka binding's header.
  const [record] = await readTopic(rawKafka(), contract.channel, 1);
  expect(record?.headers.ce_traceparent).toBe(
    `00-${sendContext?.traceId}-${sendContext?.spanId}-01`,
  );
  expect(sent.traceparent).toBe(record?.headers.ce_traceparent);

  for (const [span, attempt] of [
    [processFailed, 1],
    [processRetried, 2],
  ] as const) {
    expect(span?.kind).toBe(SpanKind.CONSUMER);
    expect(span?.spanContext().traceId).toBe(sendContext?.traceId);
    expect(span?.parentSpanContext).toMatchObject({ spanId: sendContext?.spanId, isRemote: true });
    expect(span?.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.consumer.group.name': `${ns}-g`,
      'messaging.message.id': sent.id,
      'edakit.attempt': attempt,
    });
  }
  expect(processFailed?.status.message).toBe('once');
});
