import { InvalidOptionsError, InvalidStateError, messageOf } from '@edakit/core';
import type { SagaInstance, SagaStatus, SagaTimeout } from '../engine/saga-instance';

const STATUSES: readonly string[] = ['running', 'completed', 'compensated'] satisfies SagaStatus[];

/**
 * The instance as one JSON document, fields in a fixed order. `data` goes
 * through JSON: properties set to undefined are dropped, Dates become strings.
 */
export function instanceToJson(instance: SagaInstance): string {
  const document = {
    saga: instance.saga,
    id: instance.id,
    definitionVersion: instance.definitionVersion,
    version: instance.version,
    status: instance.status,
    step: instance.step,
    attempt: instance.attempt,
    data: instance.data,
    completedSteps: instance.completedSteps,
    timeout: instance.timeout ?? null,
    processed: instance.processed,
    failure: instance.failure ?? null,
    createdAt: instance.createdAt,
    updatedAt: instance.updatedAt,
  };
  try {
    return JSON.stringify(document);
  } catch (error) {
    throw new InvalidOptionsError(
      `Saga "${instance.saga}" instance "${instance.id}" cannot be stored: its data is not JSON (${messageOf(error)})`,
      { saga: instance.saga, sagaId: instance.id },
    );
  }
}

/** Reads a stored document back; a document that is not an instance is an InvalidStateError. */
export function instanceFromJson(json: string, where: string): SagaInstance {
  const malformed = (why: string) =>
    new InvalidStateError(`Stored saga instance ${where} is malformed: ${why}`, { key: where });
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw malformed(messageOf(error));
  }
  if (!isRecord(parsed)) throw malformed('not an object');
  const text = (name: string): string => {
    const value = parsed[name];
    if (typeof value !== 'string') throw malformed(`"${name}" is not a string`);
    return value;
  };
  const number = (name: string): number => {
    const value = parsed[name];
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw malformed(`"${name}" is not a number`);
    return value;
  };
  const strings = (name: string): string[] => {
    const value = parsed[name];
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string'))
      throw malformed(`"${name}" is not a list of strings`);
    return value as string[];
  };
  const status = text('status');
  if (!STATUSES.includes(status)) throw malformed(`unknown status "${status}"`);
  const instance: SagaInstance = {
    saga: text('saga'),
    id: text('id'),
    definitionVersion: number('definitionVersion'),
    version: number('version'),
    status: status as SagaStatus,
    step: number('step'),
    attempt: number('attempt'),
    data: parsed.data,
    completedSteps: strings('completedSteps'),
    timeout: timeoutOf(parsed.timeout, malformed),
    processed: strings('processed'),
    createdAt: number('createdAt'),
    updatedAt: number('updatedAt'),
  };
  const failure = parsed.failure;
  if (failure === null || failure === undefined) return instance;
  if (
    !isRecord(failure) ||
    typeof failure.step !== 'string' ||
    (failure.reason !== 'failed' && failure.reason !== 'timed-out')
  ) {
    throw malformed('"failure" is not { step, reason }');
  }
  return { ...instance, failure: { step: failure.step, reason: failure.reason } };
}

function timeoutOf(value: unknown, malformed: (why: string) => Error): SagaTimeout | undefined {
  if (value === null || value === undefined) return undefined;
  if (
    !isRecord(value) ||
    typeof value.token !== 'string' ||
    typeof value.dueAt !== 'number' ||
    (value.kind !== 'reply' && value.kind !== 'retry')
  ) {
    throw malformed('"timeout" is not { token, dueAt, kind }');
  }
  return { token: value.token, dueAt: value.dueAt, kind: value.kind };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
