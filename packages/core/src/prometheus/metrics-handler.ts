import type { Registry } from 'prom-client';
import { messageOf } from '../errors/message-of';
import { type NodeHttpHandler, send } from '../health/health-handler';

/**
 * Answers a Prometheus scrape with every metric of `registry` in the
 * text exposition format; 500 with the reason when collecting fails.
 *
 * @example
 * const metrics = prometheusMetrics({ buses: [bus] });
 * http.createServer(metricsHandler(metrics.registry)).listen(9464);
 */
export function metricsHandler(registry: Registry): NodeHttpHandler {
  return async (request, response) => {
    try {
      const body = await registry.metrics();
      send(request, response, 200, registry.contentType, body);
    } catch (error) {
      send(
        request,
        response,
        500,
        'text/plain; charset=utf-8',
        `# metrics failed: ${messageOf(error)}\n`,
      );
    }
  };
}
