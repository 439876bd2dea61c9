import type {
  Bus,
  Logger,
  OutboxFiguresSource,
  SagaFiguresSource,
  SagaTracing,
  Transport,
} from '@edakit/core';
import type { Config } from './config';
import type { Route } from './http';

/** What a service is given: its own bus (source `/services/<name>`) on the process's transport. */
export interface ServiceDeps {
  readonly bus: Bus;
  readonly transport: Transport;
  readonly config: Config;
  /** The service's logger (pino, with `service` set); its bus logs through it too. */
  readonly logger: Logger;
  /** For a saga runtime: its steps as spans (SHOP_TRACING), the buses' tracing. */
  readonly tracing: SagaTracing | undefined;
}

/**
 * A service: subscribes its handlers in `start` (before its bus starts),
 * exposes a small HTTP surface, and owns its state.
 */
export interface Service {
  readonly name: string;
  readonly routes: readonly Route[];
  /** Outbox relays whose backlog /health and /metrics report (e.g. `relay`). */
  readonly outboxes?: Readonly<Record<string, OutboxFiguresSource>>;
  /** Saga runtimes whose instances by status /metrics reports. */
  readonly sagas?: readonly SagaFiguresSource[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

export type ServiceFactory = (deps: ServiceDeps) => Service | Promise<Service>;
