// @edakit/core/opentelemetry: the only entry that loads @opentelemetry/api (an optional peer dependency).
export {
  type OpenTelemetryOptions,
  type OpenTelemetryTracing,
  openTelemetry,
  SpanAttributes,
  TRACER_NAME,
} from './open-telemetry';
