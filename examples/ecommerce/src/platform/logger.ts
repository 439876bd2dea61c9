import type { Logger } from '@edakit/core';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';
import type { Config } from './config';

/**
 * The shop's logger: pino, JSON lines on stdout, one child per service. It is
 * handed to each bus as is (edakit's Logger is pino's fields-then-message
 * call), so edakit's own lines (retries, dead letters, a handler's
 * `ctx.logger` with the event's id, type, correlation id, group and attempt)
 * come out in the same stream. Personal data and credentials are redacted
 * wherever they appear in a line's fields. A line written inside a span (an
 * HTTP request, a handler, a saga step with SHOP_TRACING) carries its
 * `trace_id` and `span_id`, so a log backend joins it to the trace.
 */
export function createLogger(config: Config, destination?: DestinationStream): PinoLogger {
  const options = {
    level: config.LOG_LEVEL,
    base: { shop: config.SHOP_NAMESPACE },
    redact: {
      paths: ['email', '*.email', 'password', '*.password', 'url', '*.url', 'authorization'],
      censor: '[redacted]',
    },
    mixin: activeSpanFields,
  };
  return destination ? pino(options, destination) : pino(options);
}

/** pino's logger as edakit's: the same call shape, kept explicit so a mismatch fails to compile. */
export const asEdakitLogger = (logger: PinoLogger): Logger => logger;

/** The active span as log fields, named as OpenTelemetry names them outside OTLP; none outside a span. */
function activeSpanFields(): Record<string, string> {
  const span = trace.getActiveSpan()?.spanContext();
  if (span === undefined || !isSpanContextValid(span)) return {};
  return {
    trace_id: span.traceId,
    span_id: span.spanId,
    trace_flags: (span.traceFlags & 0xff).toString(16).padStart(2, '0'),
  };
}
