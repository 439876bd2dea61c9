import { InvalidOptionsError, InvalidStateError, messageOf } from '@edakit/core';
import {
  isSagaStatus,
  type SagaInstance,
  type SagaTimeout,
  traceOf,
} from '../engine/saga-instance';

/**
 * The instance as one JSON document, fields in a fixed order, and the
 * instance as `instanceFromJson` reads that document back (`data` is the only
 * field JSON can change: properties set to undefined are dropped, Dates become
 * strings).
 */
export function encodeInstance(instance: SagaInstance): {
  readonly json: string;
  readonly stored: SagaInstance;
} {
  let data: string | undefined;
  try {
    data = JSON.stringify(instance.data);
  } catch (error) {
    throw new InvalidOptionsError(
      `Saga "${instance.saga}" instance "${instance.id}" cannot be stored: its data is not JSON (${messageOf(error)})`,
      { saga: instance.saga, sagaId: instance.id },
    );
  }
  const { timeout, failure } = instance;
  const head = JSON.stringify({
    saga: instance.saga,
    id: instance.id,
    definitionVersion: instance.definitionVersion,
    version: instance.version,
    status: instance.status,
    step: instance.step,
    attempt: instance.attempt,
  });
  const tail = JSON.stringify({
    completedSteps: instance.completedSteps,
    timeout: timeout ?? null,
    processed: instance.processed,
    failure: failure ?? null,
    createdAt: instance.createdAt,
    updatedAt: instance.updatedAt,
    traceparent: instance.traceparent,
    tracestate: instance.tracestate,
  });
  // JSON.stringify leaves out a property whose value has no JSON (undefined): so does this.
  const json = `${head.slice(0, -1)}${data === undefined ? '' : `,"data":${data}`},${tail.slice(1)}`;
  const stored: SagaInstance = {
    saga: instance.saga,
    id: instance.id,
    definitionVersion: instance.definitionVersion,
    version: instance.version,
    status: instance.status,
    step: instance.step,
    attempt: instance.attempt,
    data: data === undefined ? undefined : JSON.parse(data),
    completedSteps: instance.completedSteps,
    timeout:
      timeout === undefined
        ? undefined
        : { token: timeout.token, dueAt: timeout.dueAt, kind: timeout.kind },
    processed: instance.processed,
    createdAt: instance.createdAt,
    updatedAt: instance.updatedAt,
    ...traceOf(instance.traceparent, instance.tracestate),
  };
  return {
    json,
    stored:
      failure === undefined
        ? stored
        : { ...stored, failure: { step: failure.step, reason: failure.reason } },
  };
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
  if (!isSagaStatus(status)) throw malformed(`unknown status "${status}"`);
  const instance: SagaInstance = {
    saga: text('saga'),
    id: text('id'),
    definitionVersion: number('definitionVersion'),
    version: number('version'),
    status,
    step: number('step'),
    attempt: number('attempt'),
    data: parsed.data,
    completedSteps: strings('completedSteps'),
    timeout: timeoutOf(parsed.timeout, malformed),
    processed: strings('processed'),
    createdAt: number('createdAt'),
    updatedAt: number('updatedAt'),
    ...traceOf(
      optionalText(parsed, 'traceparent', malformed),
      optionalText(parsed, 'tracestate', malformed),
    ),
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

function optionalText(
  parsed: Record<string, unknown>,
  name: string,
  malformed: (why: string) => Error,
): string | undefined {
  const value = parsed[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw malformed(`"${name}" is not a string`);
  return value;
}
