import type { EventEnvelope } from '../envelope/event-envelope';
import type { HandlerContext } from '../handler/handler';

/** An event the bus is about to create: by `prepare` (sent later) or `publish` (sent now). */
export interface PublishTraceStart {
  /**
   * `create`: `bus.prepare`, the event is sent later (a batch, an outbox relay);
   * `send`: `bus.publish` (and `ctx.publish`), the event is sent now.
   */
  readonly operation: 'create' | 'send';
  readonly type: string;
  readonly channel: string;
  /** The transport's `name`: kafka, rabbitmq, memory. */
  readonly transport: string;
  /** A trace context the caller passed in the publish options (or `ctx.publish` carried forward). */
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

/** The trace of one event being created or sent. */
export interface PublishTrace {
  /** W3C trace context the event carries (`traceparent`/`tracestate` of its envelope). */
  readonly traceparent: string | undefined;
  readonly tracestate?: string | undefined;
  /**
   * Called once: the envelope was made (`create`), or the transport confirmed
   * the send (`send`); `envelope` is absent and `error` set when that failed.
   */
  end(envelope: EventEnvelope | undefined, error?: unknown): void;
}

/** A `publishBatch` call of prepared events, each carrying its own trace context. */
export interface BatchTraceStart {
  readonly events: readonly EventEnvelope[];
  readonly channels: readonly string[];
  readonly transport: string;
}

/** One attempt of one handler. */
export interface HandleTraceStart {
  readonly event: EventEnvelope;
  readonly context: HandlerContext;
  readonly transport: string;
}

/**
 * What a bus calls so that a tracer (`@edakit/core/opentelemetry`) can record
 * spans and carry W3C trace context in envelopes: pass one as the bus's
 * `tracing` option. Without it the bus does none of this.
 */
export interface BusTracing {
  /** Before an event's envelope is made: returns the trace context it carries. */
  startPublish(start: PublishTraceStart): PublishTrace;
  /** Around a `publishBatch` call; `end` is called once, with the transport's refusal if any. */
  startBatch(start: BatchTraceStart): { end(error?: unknown): void };
  /**
   * Runs one handler attempt (`run`: the handler through its middleware) and
   * returns what it returns; outermost, around every middleware.
   */
  handle(start: HandleTraceStart, run: () => Promise<void>): Promise<void>;
}
