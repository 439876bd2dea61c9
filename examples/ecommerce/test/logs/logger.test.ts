import { Writable } from 'node:stream';
import { createBus, InMemoryTransport, on } from '@edakit/core';
import { openTelemetry } from '@edakit/core/opentelemetry';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { CustomerCreated } from '../../contracts';
import { readConfig } from '../../src/platform/config';
import { asEdakitLogger, createLogger } from '../../src/platform/logger';

/** A pino destination that keeps each JSON line. */
function lines(): { stream: Writable; read(): Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    read: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** The customers service's bus over memory, logging JSON lines through pino into `out`. */
function customersBus(tracing?: ReturnType<typeof openTelemetry>) {
  const out = lines();
  const root = createLogger(readConfig({ LOG_LEVEL: 'info', SHOP_NAMESPACE: 'logs' }), out.stream);
  const bus = createBus({
    transport: new InMemoryTransport(),
    source: '/services/customers',
    logger: asEdakitLogger(root.child({ service: 'customers' })),
    tracing,
  });
  return { out, root, bus };
}

describe('logs: pino as the buses logger', () => {
  it("a handler's ctx.logger writes one JSON line with the event's id, type, correlation id, group, handler and attempt; emails are redacted", async () => {
    const { out, bus } = customersBus();
    const handled = new Promise<void>((resolve) => {
      bus.subscribe({
        group: 'welcome',
        handlers: [
          on(CustomerCreated, (event, ctx) => {
            ctx.logger.info(
              { customerId: event.data.customerId, email: event.data.email },
              'welcome mail queued',
            );
            resolve();
          }),
        ],
      });
    });
    await bus.start();
    const event = await bus.publish(
      CustomerCreated,
      { customerId: 'c-1', name: 'Ada', email: 'ada@example.com' },
      { correlationId: 'signup-1' },
    );
    await handled;
    await bus.stop();
    const [line] = out.read().filter((l) => l.msg === 'welcome mail queued');
    expect(line).toMatchObject({
      level: 30,
      shop: 'logs',
      service: 'customers',
      eventId: event.id,
      eventType: 'customer.created',
      correlationId: 'signup-1',
      group: 'welcome',
      handler: 'welcome/customer.created',
      attempt: 1,
      customerId: 'c-1',
      email: '[redacted]',
    });
    expect(JSON.stringify(out.read())).not.toContain('ada@example.com');
  });

  it('a line written inside a span carries its trace_id and span_id; a handler of a traced event its trace_id; none outside', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      const { out, root, bus } = customersBus(openTelemetry({ tracerProvider: provider }));
      const handled = new Promise<void>((resolve) => {
        bus.subscribe({
          group: 'welcome',
          handlers: [
            on(CustomerCreated, (_event, ctx) => {
              ctx.logger.info({}, 'handling');
              resolve();
            }),
          ],
        });
      });
      await bus.start();
      const request = provider.getTracer('test').startSpan('POST /customers');
      await context.with(trace.setSpan(context.active(), request), async () => {
        root.info({}, 'in the request');
        await bus.publish(CustomerCreated, {
          customerId: 'c-2',
          name: 'Bo',
          email: 'b@example.com',
        });
      });
      request.end();
      await handled;
      await bus.stop();
      root.info({}, 'outside');
      const byMessage = new Map(out.read().map((line) => [line.msg, line]));
      const traceId = request.spanContext().traceId;
      expect(byMessage.get('in the request')).toMatchObject({
        trace_id: traceId,
        span_id: request.spanContext().spanId,
        trace_flags: '01',
      });
      const process = exporter.getFinishedSpans().find((span) => span.name === 'process customer');
      expect(byMessage.get('handling')).toMatchObject({
        trace_id: traceId,
        span_id: process?.spanContext().spanId,
      });
      expect(byMessage.get('outside')).not.toHaveProperty('trace_id');
    } finally {
      context.disable();
    }
  });

  it('LOG_LEVEL=silent writes nothing; an unknown level is refused by the configuration', () => {
    const out = lines();
    createLogger(readConfig({ LOG_LEVEL: 'silent' }), out.stream).error({}, 'nothing');
    expect(out.read()).toEqual([]);
    expect(() => readConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });
});
