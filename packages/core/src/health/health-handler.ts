import { messageOf } from '../errors/message-of';
import { type HealthCheckOptions, type HealthReport, healthCheck } from './health-check';

/** What the handlers read of a request; Node's `http.IncomingMessage` fits. */
export interface HttpRequest {
  readonly method?: string | undefined;
}

/** What the handlers write to a response; Node's `http.ServerResponse` fits. */
export interface HttpResponse {
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  end(body?: string): unknown;
}

/**
 * A plain Node.js HTTP handler: mount it on `http.createServer` or any
 * framework that passes Node's request and response. (Typed structurally, so
 * core's types need no @types/node.)
 */
export type NodeHttpHandler = (request: HttpRequest, response: HttpResponse) => Promise<void>;

export interface HealthHandlerOptions {
  /**
   * `ready` (default): 503 when the report is not ready (something is down),
   * for readiness probes and load balancers. `live`: 503 when it is not live
   * (a restart would help), for liveness probes.
   */
  readonly probe?: 'ready' | 'live';
}

/**
 * Answers with the health report as JSON: 200, or 503 when the probe fails.
 * Takes the options of `healthCheck` or a function that makes the report.
 *
 * @example
 * const health = healthHandler({ buses: [bus], thresholds: { maxLag: 10_000 } });
 * const live = healthHandler({ buses: [bus] }, { probe: 'live' });
 * http.createServer((request, response) =>
 *   request.url === '/health/live' ? live(request, response) : health(request, response),
 * ).listen(8080);
 */
export function healthHandler(
  check: HealthCheckOptions | (() => Promise<HealthReport>),
  options: HealthHandlerOptions = {},
): NodeHttpHandler {
  const report = typeof check === 'function' ? check : () => healthCheck(check);
  const probe = options.probe ?? 'ready';
  return async (request, response) => {
    let status: number;
    let body: string;
    try {
      const current = await report();
      status = (probe === 'live' ? current.live : current.ready) ? 200 : 503;
      body = JSON.stringify(current);
    } catch (error) {
      status = 503;
      body = JSON.stringify({
        status: 'down',
        live: false,
        ready: false,
        checks: [{ name: 'health', status: 'down', live: false, message: messageOf(error) }],
      });
    }
    send(request, response, status, 'application/json; charset=utf-8', body);
  };
}

/** Writes one uncached answer; no body for HEAD. */
export function send(
  request: HttpRequest,
  response: HttpResponse,
  status: number,
  contentType: string,
  body: string,
): void {
  response.writeHead(status, {
    'content-type': contentType,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}
