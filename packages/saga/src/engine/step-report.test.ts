import { silentLogger } from '@edakit/core';
import { describe, expect, it } from 'vitest';
import { OrderSaga } from '../../test/support/order-saga';
import type { SagaDefinition } from '../definition/define-saga';
import type { SagaInstance } from './saga-instance';
import { observeStep, stepOutcome } from './step-report';

const definition = OrderSaga as unknown as SagaDefinition<unknown>;
const running: SagaInstance = {
  saga: 'order',
  id: 'o-1',
  definitionVersion: 1,
  version: 3,
  status: 'running',
  step: 2,
  attempt: 2,
  data: {},
  completedSteps: ['reserve-inventory', 'charge-payment'],
  timeout: { token: 't-1', dueAt: 10, kind: 'retry' },
  processed: [],
  createdAt: 0,
  updatedAt: 0,
};

describe('step reports', () => {
  it('a fired re-send timer is a timeout of kind retry; a still-running instance is not finished', () => {
    const calls: string[] = [];
    observeStep(
      [
        {
          onSagaStarted: () => calls.push('started'),
          onSagaFinished: () => calls.push('finished'),
          onSagaTimeout: ({ kind }) => calls.push(`timeout ${kind}`),
        },
      ],
      {
        definition,
        current: running,
        transition: { kind: 'applied', instance: { ...running, attempt: 3 }, sends: [] },
      },
      'timeout',
      silentLogger,
    );
    expect(calls).toEqual(['timeout retry']);
  });

  it('a duplicate or unexpected step reports nothing, and its outcome names the awaited step', () => {
    const calls: string[] = [];
    const observer = [{ onSagaStarted: () => calls.push('started') }];
    const duplicate = { definition, current: running, transition: { kind: 'duplicate' } as const };
    observeStep(observer, duplicate, 'event', silentLogger);
    observeStep(observer, undefined, 'timeout', silentLogger);
    expect(calls).toEqual([]);
    expect(stepOutcome(duplicate)).toEqual({
      result: 'duplicate',
      step: 'create-shipment',
      status: 'running',
    });
    expect(stepOutcome(undefined)).toEqual({ result: 'duplicate' });
  });
});
