import { type Bus, createBus, type Transport } from '@edakit/core';
import { openTelemetry } from '@edakit/core/opentelemetry';
import { catalog } from '../../contracts/catalog';
import type { Config } from './config';
import { type HttpServer, type Route, serve } from './http';
import { asEdakitLogger, createLogger } from './logger';
import { operationsRoutes } from './operations';
import type { Service, ServiceFactory } from './service';
import { createTransport, whenConsuming } from './transport';

export interface HostOptions {
  readonly config: Config;
  readonly services: Readonly<Record<string, ServiceFactory>>;
  /** Routes served next to the services' (the web page, the event feed). */
  readonly extraRoutes?: (services: ReadonlyMap<string, Service>) => readonly Route[];
  /** Tests share one memory transport between hosts; otherwise one per process. */
  readonly transport?: Transport;
}

export interface Host {
  readonly http: HttpServer;
  readonly transport: Transport;
  readonly services: ReadonlyMap<string, Service>;
  stop(): Promise<void>;
}

/**
 * Runs services in this process: one transport, a bus per service, one HTTP
 * server for all their routes, served once every consumer group consumes.
 * Stops in reverse order, then closes the transport.
 */
export async function startHost(options: HostOptions): Promise<Host> {
  const { config } = options;
  const names = Object.keys(options.services);
  const root = createLogger(config);
  const transport = options.transport ?? createTransport(config, `shop-${names.join('-')}`);
  const shopContracts = catalog.events.map((event) => event.contract);
  const started: { service: Service; stopBus: () => Promise<void> }[] = [];
  const services = new Map<string, Service>();
  const buses: Bus[] = [];
  // One tracing for every bus and saga (SHOP_TRACING): spans through the registered OpenTelemetry SDK.
  const tracing = config.SHOP_TRACING ? openTelemetry() : undefined;
  // The metrics watch every service's outboxes and sagas: services are built
  // first, and started once the metrics watch them, before any event arrives.
  let operations: ReturnType<typeof operationsRoutes> | undefined;
  const stopAll = async () => {
    for (const { service, stopBus } of started.reverse()) {
      await stopBus();
      await service.stop();
    }
    // Built but never started (a later one failed): their stores still hold connections.
    const running = new Set(started.map(({ service }) => service));
    for (const service of [...services.values()].reverse()) {
      if (!running.has(service)) await service.stop();
    }
    if (!options.transport) await transport.close();
  };
  try {
    for (const name of names) {
      const factory = options.services[name] as ServiceFactory;
      const logger = asEdakitLogger(root.child({ service: name }));
      const bus = createBus({
        transport,
        source: `/services/${name}`,
        closeTransportOnStop: false,
        // Every shop type: a group reads whole topics, and skips the types it does not
        // handle only when its bus knows them (unknown ones are dead-lettered as poison).
        contracts: shopContracts,
        logger,
        ...(tracing === undefined ? {} : { tracing }),
      });
      const service = await factory({ bus, transport, config, logger, tracing });
      buses.push(bus);
      services.set(name, service);
    }
    operations = operationsRoutes({
      buses,
      transport,
      outboxes: Object.fromEntries(
        [...services.values()].flatMap((s) =>
          Object.entries(s.outboxes ?? {}).map(([name, source]) => [`${s.name}.${name}`, source]),
        ),
      ),
      sagas: [...services.values()].flatMap((s) => s.sagas ?? []),
    });
    for (const [index, service] of [...services.values()].entries()) {
      const bus = buses[index] as Bus;
      // Listed before it starts: a bus that fails to start still has subscriptions to stop.
      started.push({ service, stopBus: () => bus.stop() });
      await service.start();
      await bus.start();
    }
    // Ready means consuming: a Kafka group takes a moment to join after it subscribed.
    await whenConsuming(transport);
    const routes = [
      ...[...services.values()].flatMap((s) => s.routes),
      ...operations.routes,
      ...(options.extraRoutes?.(services) ?? []),
    ];
    const http = await serve(routes, config.PORT, { tracing: config.SHOP_TRACING });
    return {
      http,
      transport,
      services,
      async stop() {
        await http.close();
        operations?.close();
        await stopAll();
      },
    };
  } catch (error) {
    operations?.close();
    await stopAll().catch(() => undefined);
    throw error;
  }
}
