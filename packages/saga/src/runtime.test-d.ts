import type { BusTracing, SagaInstanceCount, SagaObserver, SagaTracing } from '@edakit/core';
import type { openTelemetry } from '@edakit/core/opentelemetry';
import type { prometheusMetrics } from '@edakit/core/prometheus';
import { describe, expectTypeOf, it } from 'vitest';
import type { SagaRuntime, SagaRuntimeOptions } from './runtime';

describe('saga runtime observability types', () => {
  it('takes the tracing a bus takes, and any SagaObserver', () => {
    type Tracing = ReturnType<typeof openTelemetry>;
    expectTypeOf<Tracing>().toExtend<BusTracing>();
    expectTypeOf<Tracing>().toExtend<NonNullable<SagaRuntimeOptions['tracing']>>();
    expectTypeOf<SagaRuntimeOptions['observer']>().toEqualTypeOf<SagaObserver | undefined>();
    expectTypeOf<SagaTracing['sagaStep']>().returns.toEqualTypeOf<Promise<unknown>>();
  });

  it('is a source prometheusMetrics({ sagas }) takes, its counts typed by status', () => {
    type Sources = NonNullable<Parameters<typeof prometheusMetrics>[0]>['sagas'];
    expectTypeOf<readonly SagaRuntime[]>().toExtend<NonNullable<Sources>>();
    expectTypeOf<Awaited<ReturnType<SagaRuntime['instanceCounts']>>>().toEqualTypeOf<
      SagaInstanceCount[]
    >();
    expectTypeOf<SagaInstanceCount['status']>().toEqualTypeOf<
      'running' | 'completed' | 'compensated'
    >();
  });
});
