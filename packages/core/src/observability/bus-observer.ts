import type { EventEnvelope } from '../envelope/event-envelope';

/** One `publish`/`publishBatch` call, after the transport confirmed or refused it. */
export interface PublishObservation {
  /** Every event of the call; all confirmed, or none when `error` is set. */
  readonly events: readonly EventEnvelope[];
  /** From the transport call to its confirm (or refusal), milliseconds. */
  readonly durationMs: number;
  /** Why the transport refused the batch; absent when it was confirmed. */
  readonly error?: unknown;
}

/** One attempt of one handler on one event. */
export interface HandlerObservation {
  readonly group: string;
  readonly handler: string;
  /** The handler's contract type. */
  readonly type: string;
  readonly channel: string;
  /** 1 on the first attempt; counts immediate and delayed retries. */
  readonly attempt: number;
  /** The handler with its middleware, milliseconds. */
  readonly durationMs: number;
  /** What the attempt threw; absent when it succeeded. */
  readonly error?: unknown;
}

/** A failed attempt that will be made again: now (immediate) or after a delay. */
export interface RetryObservation {
  readonly group: string;
  /** The handler that failed; absent when the delivery itself failed. */
  readonly handler?: string | undefined;
  /** The event's type, when a contract of this bus knows it. */
  readonly type?: string | undefined;
  readonly channel: string;
  readonly kind: 'immediate' | 'delayed';
  /** Delay before a delayed retry, milliseconds. */
  readonly delayMs?: number | undefined;
  readonly error: unknown;
}

/** An event sent to the dead-letter queue of its group. */
export interface DeadLetterObservation {
  readonly group: string;
  readonly handler?: string | undefined;
  /**
   * The event's type when a contract of this bus knows it; absent for an
   * undecodable message or a type nobody declared (never trust it as a label).
   */
  readonly type?: string | undefined;
  readonly channel: string;
  /** An EDAKIT_* code: EDAKIT_RETRIES_EXHAUSTED, EDAKIT_NON_RETRYABLE, EDAKIT_VALIDATION_FAILED... */
  readonly reason: string;
  readonly error: unknown;
}

/**
 * Watches what a bus does, for metrics and tracing: attach with
 * `bus.observe(observer)`. Every method is optional and called synchronously
 * on the bus's path, so it must be quick; what it throws is ignored and
 * never changes an event's fate. Nothing is measured while no observer is
 * attached.
 *
 * @example
 * const stop = bus.observe({
 *   onDeadLetter: ({ group, type, reason }) => console.warn(`${group}: ${type} dead-lettered (${reason})`),
 * });
 */
export interface BusObserver {
  /** `bus.publish`: every publish or publishBatch call, confirmed or refused. */
  onPublish?(observation: PublishObservation): void;
  /** `bus.handle`: every handler attempt, succeeded or failed. */
  onHandlerAttempt?(observation: HandlerObservation): void;
  /** `bus.retry`: a failed event will be handled again. */
  onRetry?(observation: RetryObservation): void;
  /** `bus.deadLetter`: an event went to the dead-letter queue. */
  onDeadLetter?(observation: DeadLetterObservation): void;
}
