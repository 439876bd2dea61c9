import {
  type Bus,
  healthHandler,
  type OutboxFiguresSource,
  type SagaFiguresSource,
  type Transport,
} from '@edakit/core';
import { metricsHandler, prometheusMetrics } from '@edakit/core/prometheus';
import { Registry } from 'prom-client';
import type { Route } from './http';

export interface OperationsSources {
  readonly buses: readonly Bus[];
  readonly transport: Transport;
  readonly outboxes: Readonly<Record<string, OutboxFiguresSource>>;
  readonly sagas: readonly SagaFiguresSource[];
}

/** What a process's health turns degraded at. */
const THRESHOLDS = { maxLag: 1_000, maxQueueDepth: 1_000, maxOutboxAgeMs: 30_000 };

/**
 * The operations routes of a process: `GET /health` (readiness: 503 when
 * something is down), `GET /health/live` (503 when a restart would help) and
 * `GET /metrics` (Prometheus), over every bus, the transport and the outbox
 * relays of the process. A registry per process keeps hosts in one test apart.
 */
export function operationsRoutes(sources: OperationsSources): { routes: Route[]; close(): void } {
  const registry = new Registry();
  const metrics = prometheusMetrics({
    registry,
    buses: sources.buses,
    transports: [sources.transport],
    outboxes: sources.outboxes,
    sagas: sources.sagas,
  });
  const checks = {
    buses: sources.buses,
    transports: [sources.transport],
    outboxes: sources.outboxes,
    thresholds: THRESHOLDS,
  };
  const node =
    (handler: ReturnType<typeof healthHandler>): Route['handle'] =>
    async (_request, { req, res }) => {
      await handler(req, res);
      return { handled: true };
    };
  return {
    routes: [
      { method: 'GET', path: '/health', handle: node(healthHandler(checks)) },
      {
        method: 'GET',
        path: '/health/live',
        handle: node(healthHandler(checks, { probe: 'live' })),
      },
      { method: 'GET', path: '/metrics', handle: node(metricsHandler(registry)) },
    ],
    close: () => metrics.close(),
  };
}
