import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

/** The instrumentation scope of the shop's HTTP spans. */
export const HTTP_TRACER_NAME = '@edakit/example-ecommerce/http';

/**
 * Runs one request inside a SERVER span named and attributed per the
 * OpenTelemetry HTTP semantic conventions (`POST /orders`): what the route
 * publishes or writes to an outbox continues its trace. `handle` resolves to
 * the route pattern it matched (undefined: none). A caller's trace context is
 * continued through the registered propagator; spans go to the registered SDK.
 */
export async function traceRequest(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  handle: () => Promise<string | undefined>,
): Promise<void> {
  const tracer = trace.getTracer(HTTP_TRACER_NAME);
  const method = req.method ?? 'GET';
  // Never the ambient context: a keep-alive connection may still carry the previous request's.
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = tracer.startSpan(
    method,
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': method, 'url.path': path, 'url.scheme': 'http' },
    },
    parent,
  );
  try {
    const route = await context.with(trace.setSpan(parent, span), handle);
    if (route !== undefined) {
      span.updateName(`${method} ${route}`);
      span.setAttribute('http.route', route);
    }
  } finally {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.setAttribute('error.type', String(res.statusCode));
    }
    span.end();
  }
}
