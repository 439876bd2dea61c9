import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { EventEnvelope } from '../envelope/event-envelope';
import type {
  BatchTraceStart,
  BusTracing,
  HandleTraceStart,
  PublishTrace,
  PublishTraceStart,
} from '../observability/bus-tracing';
import type { SagaStepTrace, SagaStepTraceStart, SagaTracing } from '../observability/saga-tracing';
import { describeFailure } from '../retry/failure-outcome';
import { readTraceContext, writeTraceContext } from './trace-context';

export interface OpenTelemetryOptions {
  /**
   * Where spans go. Default: the global tracer provider, i.e. whatever SDK the
   * application registered (none: spans are not recorded, trace context still
   * passes through).
   */
  readonly tracerProvider?: TracerProvider;
}

/** The instrumentation scope of every span. */
export const TRACER_NAME = '@edakit/core';

/**
 * Span attribute names: the OpenTelemetry messaging and CloudEvents semantic
 * conventions, plus edakit's own (`edakit.*`).
 */
export const SpanAttributes = Object.freeze({
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  consumerGroup: 'messaging.consumer.group.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  batchCount: 'messaging.batch.message_count',
  kafkaKey: 'messaging.kafka.message.key',
  rabbitmqRoutingKey: 'messaging.rabbitmq.destination.routing_key',
  eventId: 'cloudevents.event_id',
  eventSource: 'cloudevents.event_source',
  eventSpecVersion: 'cloudevents.event_spec_version',
  eventType: 'cloudevents.event_type',
  eventSubject: 'cloudevents.event_subject',
  errorType: 'error.type',
  handler: 'edakit.handler',
  attempt: 'edakit.attempt',
  causationId: 'edakit.causation_id',
  sagaName: 'edakit.saga.name',
  sagaId: 'edakit.saga.id',
  sagaTrigger: 'edakit.saga.trigger',
  sagaStep: 'edakit.saga.step',
  sagaStatus: 'edakit.saga.status',
  sagaResult: 'edakit.saga.result',
  sagaSent: 'edakit.saga.sent_count',
});

/** Tracing for buses and saga runtimes: pass the same object as either's `tracing` option. */
export type OpenTelemetryTracing = BusTracing & SagaTracing;

/**
 * Tracing for a bus with OpenTelemetry (`@opentelemetry/api`, an optional peer
 * dependency): pass it as the bus's `tracing` option. Spans follow the
 * messaging semantic conventions:
 *
 * - `create <channel>` (PRODUCER): `bus.prepare`, for events sent later (a
 *   batch, an outbox); `send <channel>` (PRODUCER): `bus.publish` and
 *   `ctx.publish`, until the transport confirmed. Either span's context is
 *   written into the envelope (`traceparent`/`tracestate`), so it crosses
 *   every transport and the outbox. Its parent is the active span (an HTTP
 *   request, a handler), else a `traceparent` given in the publish options.
 * - `send <channel>` (CLIENT): `bus.publishBatch`, linked to each event's context.
 * - `process <channel>` (CONSUMER): one per handler attempt, a child of the
 *   event's creation context and linked to it, the handler running inside it
 *   (what it publishes continues the trace). A retry is a span of its own
 *   (`edakit.attempt`); a failed attempt records its error.
 * - `saga <name> <step>` (INTERNAL): one saga step (a saga runtime's
 *   `tracing` option), a child of the `process` span of the event that moved
 *   it, or for a timer of the step that set it; the commands it sends are its
 *   children. Attributes: `edakit.saga.*` (name, id, trigger, step, status,
 *   result, sent_count).
 *
 * @example
 * import { openTelemetry } from '@edakit/core/opentelemetry';
 * const tracing = openTelemetry();
 * const bus = createBus({ transport, source: '/services/orders', tracing });
 * // and, with @edakit/saga: createSagaRuntime({ bus, transport, store, sagas, tracing })
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): OpenTelemetryTracing {
  // The global provider is a proxy: an SDK registered after this still gets the spans.
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(TRACER_NAME);

  return {
    startPublish(start: PublishTraceStart): PublishTrace {
      const span = tracer.startSpan(
        `${start.operation} ${start.channel}`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            [SpanAttributes.system]: start.transport,
            [SpanAttributes.operationType]: start.operation,
            [SpanAttributes.operationName]: start.operation,
            [SpanAttributes.destination]: start.channel,
            [SpanAttributes.eventType]: start.type,
          },
        },
        activeOrGiven(start.traceparent, start.tracestate),
      );
      const carried = carriedContext(span, start.traceparent, start.tracestate);
      return {
        traceparent: carried.traceparent,
        tracestate: carried.tracestate,
        end(envelope, error) {
          if (envelope !== undefined)
            span.setAttributes(messageAttributes(envelope, start.transport));
          if (error !== undefined) recordFailure(span, error);
          span.end();
        },
      };
    },

    startBatch(start: BatchTraceStart) {
      const links: Link[] = [];
      for (const event of start.events) {
        const creation = readTraceContext(event.traceparent, event.tracestate);
        if (creation !== undefined) {
          links.push({ context: creation, attributes: { [SpanAttributes.messageId]: event.id } });
        }
      }
      const [only] = start.channels;
      const single = start.channels.length === 1 && only !== undefined;
      const span = tracer.startSpan(single ? `send ${only}` : 'send', {
        kind: SpanKind.CLIENT,
        links,
        attributes: {
          [SpanAttributes.system]: start.transport,
          [SpanAttributes.operationType]: 'send',
          [SpanAttributes.operationName]: 'send',
          [SpanAttributes.batchCount]: start.events.length,
          ...(single ? { [SpanAttributes.destination]: only } : {}),
        },
      });
      return {
        end(error?: unknown) {
          if (error !== undefined) recordFailure(span, error);
          span.end();
        },
      };
    },

    async handle(start: HandleTraceStart, run: () => Promise<void>): Promise<void> {
      const { event, context: handling } = start;
      const creation = readTraceContext(event.traceparent, event.tracestate);
      // Never the ambient context: a consumer loop may still carry the previous event's span.
      const parent =
        creation === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, creation);
      const span = tracer.startSpan(
        `process ${handling.channel}`,
        {
          kind: SpanKind.CONSUMER,
          links: creation === undefined ? [] : [{ context: creation }],
          attributes: {
            [SpanAttributes.system]: start.transport,
            [SpanAttributes.operationType]: 'process',
            [SpanAttributes.operationName]: 'process',
            [SpanAttributes.destination]: handling.channel,
            [SpanAttributes.consumerGroup]: handling.group,
            [SpanAttributes.handler]: handling.handler,
            [SpanAttributes.attempt]: handling.attempt,
            ...messageAttributes(event, start.transport),
          },
        },
        parent,
      );
      try {
        await context.with(trace.setSpan(parent, span), run);
      } catch (error) {
        recordFailure(span, error);
        throw error;
      } finally {
        span.end();
      }
    },

    async sagaStep<T>(
      start: SagaStepTraceStart,
      run: (step: SagaStepTrace) => Promise<T>,
    ): Promise<T> {
      // A timer's step belongs to the trace that set the timer, never to whatever
      // span is active where the timers are polled or fired by hand.
      const parent =
        start.trigger === 'timeout'
          ? givenOrRoot(start.traceparent, start.tracestate)
          : activeOrGiven(start.traceparent, start.tracestate);
      const span = tracer.startSpan(
        `saga ${start.saga}`,
        {
          kind: SpanKind.INTERNAL,
          attributes: {
            [SpanAttributes.sagaName]: start.saga,
            [SpanAttributes.sagaId]: start.sagaId,
            [SpanAttributes.sagaTrigger]: start.trigger,
            ...(start.eventType === undefined
              ? {}
              : { [SpanAttributes.eventType]: start.eventType }),
            ...(start.eventId === undefined ? {} : { [SpanAttributes.eventId]: start.eventId }),
          },
        },
        parent,
      );
      const carried = carriedContext(span, start.traceparent, start.tracestate);
      try {
        return await context.with(trace.setSpan(parent, span), () =>
          run({
            traceparent: carried.traceparent,
            tracestate: carried.tracestate,
            record(outcome) {
              if (outcome.step !== undefined) {
                span.updateName(`saga ${start.saga} ${outcome.step}`);
                span.setAttribute(SpanAttributes.sagaStep, outcome.step);
              }
              span.setAttribute(SpanAttributes.sagaResult, outcome.result);
              if (outcome.status !== undefined) {
                span.setAttribute(SpanAttributes.sagaStatus, outcome.status);
              }
              if (outcome.sent !== undefined)
                span.setAttribute(SpanAttributes.sagaSent, outcome.sent);
            },
          }),
        );
      } catch (error) {
        recordFailure(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  };
}

/**
 * What an event or a saga step carries on: the span's own context, or, when
 * no SDK records spans (a non-recording span), the context it was given.
 */
function carriedContext(
  span: Span,
  traceparent: string | undefined,
  tracestate: string | undefined,
): { traceparent: string | undefined; tracestate: string | undefined } {
  const spanContext = span.spanContext();
  return isSpanContextValid(spanContext)
    ? writeTraceContext(spanContext)
    : { traceparent, tracestate };
}

/** The given trace context, else a new trace: no ambient span. */
function givenOrRoot(traceparent: string | undefined, tracestate: string | undefined): Context {
  const given = readTraceContext(traceparent, tracestate);
  return given === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, given);
}

/** The active span, else the trace context the caller passed, else a new trace. */
function activeOrGiven(traceparent: string | undefined, tracestate: string | undefined): Context {
  const active = context.active();
  const current = trace.getSpan(active)?.spanContext();
  if (current !== undefined && isSpanContextValid(current)) return active;
  const given = readTraceContext(traceparent, tracestate);
  return given === undefined ? active : trace.setSpanContext(active, given);
}

function messageAttributes(envelope: EventEnvelope, transport: string): Attributes {
  const attributes: Attributes = {
    [SpanAttributes.messageId]: envelope.id,
    [SpanAttributes.conversationId]: envelope.correlationid,
    [SpanAttributes.eventId]: envelope.id,
    [SpanAttributes.eventSource]: envelope.source,
    [SpanAttributes.eventSpecVersion]: envelope.specversion,
    [SpanAttributes.eventType]: envelope.type,
  };
  if (envelope.subject !== undefined) attributes[SpanAttributes.eventSubject] = envelope.subject;
  if (envelope.causationid !== undefined) {
    attributes[SpanAttributes.causationId] = envelope.causationid;
  }
  if (transport === 'kafka' && envelope.partitionkey !== undefined) {
    attributes[SpanAttributes.kafkaKey] = envelope.partitionkey;
  }
  if (transport === 'rabbitmq') attributes[SpanAttributes.rabbitmqRoutingKey] = envelope.type;
  return attributes;
}

/** Error status, the exception, and `error.type`: an EDAKIT_* code or the error's class. */
function recordFailure(span: Span, error: unknown): void {
  const failure = describeFailure(error);
  span.recordException(
    error instanceof Error ? error : { name: failure.errorClass, message: failure.message },
  );
  span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
  span.setAttribute(SpanAttributes.errorType, failure.code ?? failure.errorClass);
}
