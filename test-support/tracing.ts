import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll } from 'vitest';

/**
 * The OpenTelemetry SDK of a test file, in memory: a tracer provider whose
 * spans `exporter` keeps, and a context manager so that spans follow awaits.
 * `global` also registers the provider, for code that uses the global one
 * (an application's `openTelemetry()` without options). Undone after the file.
 */
export function inMemoryTracing(options: { readonly global?: boolean } = {}) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    if (options.global) trace.setGlobalTracerProvider(provider);
  });
  afterAll(() => {
    trace.disable();
    context.disable();
  });
  return { exporter, provider };
}
