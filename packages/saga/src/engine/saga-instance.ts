/** Every status an instance can have, in its life's order. */
export const SAGA_STATUSES = ['running', 'completed', 'compensated'] as const;
export type SagaStatus = (typeof SAGA_STATUSES)[number];

/** Narrows a status read from a store (JSON, a row) to a known one. */
export function isSagaStatus(value: unknown): value is SagaStatus {
  return (SAGA_STATUSES as readonly unknown[]).includes(value);
}

/** A pending timer of an instance: the reply deadline of a step, or the delay before re-sending it. */
export interface SagaTimeout {
  /** A new token per timer: a firing whose token is not the instance's current one is stale. */
  readonly token: string;
  readonly dueAt: number;
  readonly kind: 'reply' | 'retry';
}

/** One saga instance as stored. */
export interface SagaInstance<D = unknown> {
  readonly saga: string;
  readonly id: string;
  readonly definitionVersion: number;
  /** Store version: 1 when created, +1 per transition (optimistic concurrency). */
  readonly version: number;
  readonly status: SagaStatus;
  /** Index of the step being awaited while running. */
  readonly step: number;
  /** Attempt of the current step (steps after the pivot are re-sent until they succeed). */
  readonly attempt: number;
  readonly data: D;
  /** Steps that succeeded, in order. */
  readonly completedSteps: readonly string[];
  readonly timeout: SagaTimeout | undefined;
  /** Ids of the last events applied: a redelivery of one of them changes nothing. */
  readonly processed: readonly string[];
  /** Why the saga compensated. */
  readonly failure?: { readonly step: string; readonly reason: 'failed' | 'timed-out' } | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
  /**
   * W3C trace context of the step that last moved the instance, so that a
   * step its timer takes later (a re-send, a deadline) continues the same trace.
   */
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

/** How many applied event ids an instance remembers. */
export const PROCESSED_WINDOW = 128;

/** An instance's trace context fields, absent rather than undefined when it has none. */
export function traceOf(
  traceparent: string | undefined,
  tracestate: string | undefined,
): Pick<SagaInstance, 'traceparent' | 'tracestate'> {
  if (traceparent === undefined) return {};
  return tracestate === undefined ? { traceparent } : { traceparent, tracestate };
}
