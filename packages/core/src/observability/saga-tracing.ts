/** A saga instance is about to take a step: an event reached it, or one of its timers fired. */
export interface SagaStepTraceStart {
  readonly saga: string;
  readonly sagaId: string;
  /** `event`: a start event or a reply; `timeout`: a reply deadline or a re-send came due. */
  readonly trigger: 'event' | 'timeout';
  /** The event's type, for `event`. */
  readonly eventType?: string | undefined;
  /** The event's id, or the timer's token for `timeout`. */
  readonly eventId?: string | undefined;
  /**
   * The trace this step continues when no span is active: for a timer, the
   * trace context of the step that set it (the instance keeps it), so a
   * command re-sent an hour later still belongs to the order's trace.
   */
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

/** What the step did, told to the trace before it ends. */
export interface SagaStepOutcome {
  /** `applied`: stored; `duplicate`: already applied or a stale timer; `unexpected`: refused by state. */
  readonly result: 'applied' | 'duplicate' | 'unexpected';
  /** The step the trigger concerned: the one awaited, or the first for a start event. */
  readonly step?: string | undefined;
  /** The instance's status after the step. */
  readonly status?: 'running' | 'completed' | 'compensated' | undefined;
  /** Commands and notifications the step sent. */
  readonly sent?: number | undefined;
}

/** The trace of one step, while it runs. */
export interface SagaStepTrace {
  /** The step's own trace context: what its commands carry and what a timer it sets keeps. */
  readonly traceparent: string | undefined;
  readonly tracestate?: string | undefined;
  /** Called at most once, before the step ends. */
  record(outcome: SagaStepOutcome): void;
}

/**
 * What a saga runtime calls so that a tracer (`@edakit/core/opentelemetry`)
 * records each saga step as a span of its own: pass one as the runtime's
 * `tracing` option. `openTelemetry()` returns one that is also a bus's.
 */
export interface SagaTracing {
  /** Runs one step inside its span and returns what `run` returns; a rejection fails the span. */
  sagaStep<T>(start: SagaStepTraceStart, run: (trace: SagaStepTrace) => Promise<T>): Promise<T>;
}
