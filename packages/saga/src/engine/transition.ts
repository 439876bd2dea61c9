import type { AnyEventContract, ConsumedEvent } from '@edakit/core';
import type { SagaDefinition } from '../definition/define-saga';
import type { ReplySpec, SendSpec, StepDefinition } from '../definition/saga-definition';
import { PROCESSED_WINDOW, type SagaInstance, type SagaTimeout } from './saga-instance';

/** A message a transition sends, built by the runtime once the new state is stored. */
export interface Outgoing<D = unknown> {
  readonly spec: SendSpec<D>;
  readonly kind: 'command' | 'compensation' | 'completed' | 'compensated';
  /** The step it belongs to; with the saga id it is the participant's idempotency key. */
  readonly step: string | undefined;
}

export type Transition<D> =
  | {
      readonly kind: 'applied';
      readonly instance: SagaInstance<D>;
      readonly sends: readonly Outgoing<D>[];
    }
  /** Already applied (same event id), or a stale timer: nothing to do, acknowledge. */
  | { readonly kind: 'duplicate' }
  /** The current state does not expect this event: the saga's policy decides. */
  | { readonly kind: 'unexpected'; readonly reason: string };

/** Inputs every transition gets from the runtime, so transitions stay pure. */
export interface TransitionInput {
  readonly now: number;
  /** Token of the timer this transition may schedule. */
  readonly token: string;
}

type Event = ConsumedEvent<AnyEventContract>;

export function startSaga<D>(
  definition: SagaDefinition<D>,
  id: string,
  event: Event,
  { now, token }: TransitionInput,
): Transition<D> {
  const base: SagaInstance<D> = {
    saga: definition.name,
    id,
    definitionVersion: definition.version,
    version: 1,
    status: 'running',
    step: 0,
    attempt: 1,
    data: definition.start.data(event),
    completedSteps: [],
    timeout: undefined,
    processed: [event.id],
    createdAt: now,
    updatedAt: now,
  };
  return enterStep(definition, base, 0, [], { now, token });
}

export function applyReply<D>(
  definition: SagaDefinition<D>,
  instance: SagaInstance<D>,
  event: Event,
  input: TransitionInput,
): Transition<D> {
  if (instance.processed.includes(event.id)) return { kind: 'duplicate' };
  if (instance.status !== 'running') {
    return { kind: 'unexpected', reason: `the saga is ${instance.status}` };
  }
  const step = definition.steps[instance.step] as StepDefinition<D>;
  const awaiting = instance.timeout?.kind !== 'retry';
  const seen = remember(instance, event.id, input.now);
  if (awaiting && matches(step.success, event)) {
    const data = step.success.update ? step.success.update(instance.data, event) : instance.data;
    const completed = [...instance.completedSteps, step.name];
    return enterStep(
      definition,
      { ...seen, data, completedSteps: completed },
      instance.step + 1,
      [],
      input,
    );
  }
  if (awaiting && step.failure && matches(step.failure, event)) {
    const data = step.failure.update ? step.failure.update(instance.data, event) : instance.data;
    return fail(definition, { ...seen, data }, step, 'failed', input);
  }
  return {
    kind: 'unexpected',
    reason: `step "${step.name}" does not expect ${event.type}${awaiting ? '' : ' while waiting to retry'}`,
  };
}

export function applyTimeout<D>(
  definition: SagaDefinition<D>,
  instance: SagaInstance<D>,
  token: string,
  input: TransitionInput,
): Transition<D> {
  const timeout = instance.timeout;
  if (instance.status !== 'running' || timeout?.token !== token) return { kind: 'duplicate' };
  const step = definition.steps[instance.step] as StepDefinition<D>;
  const touched = { ...instance, updatedAt: input.now };
  if (timeout.kind === 'retry') {
    return resend(definition, touched, step, instance.attempt, input);
  }
  return fail(definition, touched, step, 'timed-out', input);
}

/** Starts step `index`, or completes the saga after the last one. */
function enterStep<D>(
  definition: SagaDefinition<D>,
  instance: SagaInstance<D>,
  index: number,
  earlier: readonly Outgoing<D>[],
  { now, token }: TransitionInput,
): Transition<D> {
  const step = definition.steps[index];
  if (step === undefined) {
    const sends = definition.completed
      ? [...earlier, { spec: definition.completed, kind: 'completed' as const, step: undefined }]
      : earlier;
    const done: SagaInstance<D> = {
      ...instance,
      status: 'completed',
      step: index,
      timeout: undefined,
      updatedAt: now,
    };
    return { kind: 'applied', instance: done, sends };
  }
  const timeout: SagaTimeout = { token, dueAt: now + stepTimeout(definition, step), kind: 'reply' };
  return {
    kind: 'applied',
    instance: { ...instance, step: index, attempt: 1, timeout, updatedAt: now },
    sends: [...earlier, { spec: step.command, kind: 'command', step: step.name }],
  };
}

/** A failed or timed-out step: re-sent after the pivot, compensated up to it. */
function fail<D>(
  definition: SagaDefinition<D>,
  instance: SagaInstance<D>,
  step: StepDefinition<D>,
  reason: 'failed' | 'timed-out',
  input: TransitionInput,
): Transition<D> {
  const pivot = definition.pivotIndex;
  if (pivot >= 0 && instance.step > pivot) {
    if (reason === 'timed-out')
      return resend(definition, instance, step, instance.attempt + 1, input);
    const delay = Math.min(
      60_000,
      definition.settings.retryDelayMs * 2 ** Math.min(16, instance.attempt - 1),
    );
    const timeout: SagaTimeout = { token: input.token, dueAt: input.now + delay, kind: 'retry' };
    return {
      kind: 'applied',
      instance: { ...instance, attempt: instance.attempt + 1, timeout, updatedAt: input.now },
      sends: [],
    };
  }
  // Undo in reverse order. A step that timed out may still have acted (its
  // reply was only late), so it is compensated too, first.
  const undo =
    reason === 'timed-out' ? [...instance.completedSteps, step.name] : instance.completedSteps;
  const sends: Outgoing<D>[] = [];
  for (const name of [...undo].reverse()) {
    const compensation = definition.steps.find(
      (candidate) => candidate.name === name,
    )?.compensation;
    if (compensation) sends.push({ spec: compensation, kind: 'compensation', step: name });
  }
  if (definition.compensated)
    sends.push({ spec: definition.compensated, kind: 'compensated', step: undefined });
  return {
    kind: 'applied',
    instance: {
      ...instance,
      status: 'compensated',
      timeout: undefined,
      failure: { step: step.name, reason },
      updatedAt: input.now,
    },
    sends,
  };
}

function resend<D>(
  definition: SagaDefinition<D>,
  instance: SagaInstance<D>,
  step: StepDefinition<D>,
  attempt: number,
  { now, token }: TransitionInput,
): Transition<D> {
  const timeout: SagaTimeout = { token, dueAt: now + stepTimeout(definition, step), kind: 'reply' };
  return {
    kind: 'applied',
    instance: { ...instance, attempt, timeout, updatedAt: now },
    sends: [{ spec: step.command, kind: 'command', step: step.name }],
  };
}

function stepTimeout<D>(definition: SagaDefinition<D>, step: StepDefinition<D>): number {
  return step.timeoutMs ?? definition.settings.stepTimeoutMs;
}

function matches<D>(spec: ReplySpec<D>, event: Event): boolean {
  return spec.contract.type === event.type;
}

function remember<D>(instance: SagaInstance<D>, eventId: string, now: number): SagaInstance<D> {
  const processed = [...instance.processed, eventId].slice(-PROCESSED_WINDOW);
  return { ...instance, processed, updatedAt: now };
}
