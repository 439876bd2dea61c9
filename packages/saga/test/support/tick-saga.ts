import { defineEvent } from '@edakit/core';
import { z } from 'zod';
import { defineSaga, reply, type SagaInstance, send, type UnexpectedEventPolicy } from '../../src';

const counter = z.string().min(1);
export const TickStarted = defineEvent({
  type: 'tick.started',
  version: 1,
  description: 'Starts a counter saga.',
  schema: z.object({ counter }),
  partitionKey: (data) => data.counter,
});
export const Ping = defineEvent({
  type: 'tick.ping',
  version: 1,
  description: 'Command of every counter step.',
  schema: z.object({ counter, step: z.number().int() }),
  partitionKey: (data) => data.counter,
});
export const Pong = defineEvent({
  type: 'tick.pong',
  version: 1,
  description: 'Reply of every counter step.',
  schema: z.object({ counter, label: z.string() }),
  partitionKey: (data) => data.counter,
});
export const PongFailed = defineEvent({
  type: 'tick.pong-failed',
  version: 1,
  description: 'Failure reply of a counter step.',
  schema: z.object({ counter }),
  partitionKey: (data) => data.counter,
});

/**
 * A saga of `steps` identical steps, each completed by any Pong: lets a test
 * fire many replies at one instance at once. The labels of the applied Pongs
 * are collected in order.
 */
export function tickSaga(
  steps: number,
  options: {
    unexpected?: UnexpectedEventPolicy;
    pivot?: number;
    name?: string;
    version?: number;
  } = {},
) {
  let saga = defineSaga({
    name: options.name ?? 'tick',
    version: options.version ?? 1,
    startedBy: TickStarted,
    correlate: (started) => started.data.counter,
    initial: () => ({ labels: [] as string[] }),
    retryDelayMs: 1_000,
    unexpected: options.unexpected ?? 'ignore',
  });
  for (let step = 1; step <= steps; step++) {
    saga = saga.step(`step-${step}`, {
      command: send(Ping, (_data, ref) => ({ counter: ref.id, step })),
      success: reply(Pong, {
        update: (data, pong) => ({ labels: [...data.labels, pong.data.label] }),
      }),
      failure: reply(PongFailed),
      pivot: options.pivot === step ? true : undefined,
    });
  }
  return saga;
}

/** The store tests' clock start (VirtualClock's default start). */
export const T0 = Date.UTC(2026, 0, 1);

/** A stored tick instance as a store test writes it: running at step 0, version 1, no timer. */
export function tickInstance(id: string, patch: Partial<SagaInstance> = {}): SagaInstance {
  return {
    saga: 'tick',
    id,
    definitionVersion: 1,
    version: 1,
    status: 'running',
    step: 0,
    attempt: 1,
    data: { labels: [] },
    completedSteps: [],
    timeout: undefined,
    processed: [],
    createdAt: T0,
    updatedAt: T0,
    ...patch,
  };
}
