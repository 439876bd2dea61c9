import { type Logger, messageOf, type SagaObserver, type SagaStepOutcome } from '@edakit/core';
import type { SagaDefinition } from '../definition/define-saga';
import type { SagaInstance } from './saga-instance';
import type { Transition } from './transition';

/** One step as the runtime took it: the instance it found and what the transition decided. */
export interface TakenStep {
  readonly definition: SagaDefinition<unknown>;
  /** The stored instance the step started from; undefined for a start. */
  readonly current: SagaInstance | undefined;
  readonly transition: Transition<unknown>;
}

/** What a step did, for its span: the step it concerned, the status after, what it sent. */
export function stepOutcome(taken: TakenStep | undefined): SagaStepOutcome {
  if (taken === undefined) return { result: 'duplicate' };
  const { definition, current, transition } = taken;
  const index =
    current?.step ?? (transition.kind === 'applied' ? transition.instance.step : undefined);
  const step = index === undefined ? undefined : definition.steps[index]?.name;
  if (transition.kind !== 'applied') {
    return { result: transition.kind, step, status: current?.status };
  }
  return {
    result: 'applied',
    step,
    status: transition.instance.status,
    sent: transition.sends.length,
  };
}

/**
 * Tells the observers what a stored step changed: an instance started, an
 * instance finished, a timer fired. An observer that throws is logged, never
 * allowed to fail the step (it is already stored) or the other observers.
 */
export function observeStep(
  observers: Iterable<SagaObserver>,
  taken: TakenStep | undefined,
  trigger: 'event' | 'timeout',
  logger: Logger,
): void {
  if (taken?.transition.kind !== 'applied') return;
  const { current, transition } = taken;
  const saga = transition.instance.saga;
  const status = transition.instance.status;
  for (const observer of observers) {
    try {
      if (trigger === 'timeout' && current?.timeout !== undefined) {
        observer.onSagaTimeout?.({ saga, kind: current.timeout.kind });
      }
      if (current === undefined) observer.onSagaStarted?.({ saga });
      if (status !== 'running' && current?.status !== status) {
        observer.onSagaFinished?.({ saga, status });
      }
    } catch (error) {
      logger.warn(
        { saga, sagaId: transition.instance.id, error: messageOf(error) },
        'saga observer threw',
      );
    }
  }
}
