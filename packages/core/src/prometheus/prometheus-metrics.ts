import { Counter, Gauge, Histogram, type Registry, register } from 'prom-client';
import type { Bus, BusHealth } from '../bus/create-bus';
import type { EventEnvelope } from '../envelope/event-envelope';
import { InvalidOptionsError } from '../errors/usage-errors';
import { type OutboxFigures, type OutboxFiguresSource, within } from '../health/health-check';
import type { BusObserver } from '../observability/bus-observer';
import type {
  SagaFiguresSource,
  SagaInstanceCount,
  SagaObserver,
} from '../observability/saga-observer';
import type { BacklogFigure, Transport, TransportHealth } from '../transport/transport';

export interface PrometheusMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's global registry. */
  readonly registry?: Registry;
  /** Prefix of every metric name. Default `edakit_`. */
  readonly prefix?: string;
  /** Buses to observe (publishes, handlers, retries, dead letters) and to read at scrape time. */
  readonly buses?: readonly Bus[];
  /** Transports not behind one of `buses`, read at scrape time. */
  readonly transports?: readonly Transport[];
  /** Outbox relays by name (`{ orders: relay }`), read at scrape time. */
  readonly outboxes?: Readonly<Record<string, OutboxFiguresSource>>;
  /**
   * Saga runtimes to observe (instances started and finished, timers fired)
   * and whose instances by status are read at scrape time.
   */
  readonly sagas?: readonly SagaFiguresSource[];
  /** Buckets of the handler duration histogram, seconds. */
  readonly durationBuckets?: readonly number[];
  /** A scrape-time source that does not answer within this is reported down. Default 5,000 ms. */
  readonly timeoutMs?: number;
}

export interface PrometheusMetrics {
  readonly registry: Registry;
  /** The bus observer behind the counters: for buses created after this (`bus.observe(metrics.observer)`). */
  readonly observer: BusObserver;
  /** For a saga runtime not given in `sagas`: instances started and finished, timeouts fired. */
  readonly saga: SagaObserver;
  /** Detaches from the buses and removes every metric from the registry. */
  close(): void;
}

const DEFAULT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const NAME_PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;
/** Label value of a type no contract declares: the wire's own value would be unbounded. */
const UNKNOWN_TYPE = 'unknown';

interface Snapshot {
  readonly buses: ReadonlyArray<{ readonly bus: Bus; readonly health: BusHealth | undefined }>;
  readonly transports: ReadonlyArray<{
    readonly transport: Transport;
    readonly health: TransportHealth | undefined;
  }>;
  readonly outboxes: ReadonlyArray<{
    readonly name: string;
    readonly stats: OutboxFigures | undefined;
  }>;
  /** Per source; undefined when it failed or did not answer in time. */
  readonly sagas: ReadonlyArray<readonly SagaInstanceCount[] | undefined>;
}

/**
 * Prometheus metrics of edakit (prom-client, an optional peer dependency):
 * counters and a histogram fed by bus observers, gauges read at scrape time
 * from bus and transport health and outbox stats. Label values are bounded:
 * groups, handler names, contract types, EDAKIT_* codes, topics, queues;
 * never an event id.
 *
 * @example
 * import { metricsHandler, prometheusMetrics } from '@edakit/core/prometheus';
 * const metrics = prometheusMetrics({ buses: [bus], outboxes: { orders: relay } });
 * http.createServer(metricsHandler(metrics.registry)).listen(9464);
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const prefix = options.prefix ?? 'edakit_';
  if (!NAME_PREFIX.test(prefix)) {
    throw new InvalidOptionsError(
      `prefix "${prefix}" is not a valid start of a Prometheus metric name`,
      { option: 'prefix', value: prefix },
    );
  }
  const registry = options.registry ?? register;
  if (registry.getSingleMetric(`${prefix}events_published_total`) !== undefined) {
    throw new InvalidOptionsError(
      `This registry already has edakit metrics named "${prefix}*": close() the other prometheusMetrics, or pass another registry or prefix`,
      { option: 'registry', prefix },
    );
  }
  const registers = [registry];
  const timeoutMs = options.timeoutMs ?? 5000;
  const buses = options.buses ?? [];
  const transports = options.transports ?? [];
  const outboxes = Object.entries(options.outboxes ?? {});
  const sagaSources = options.sagas ?? [];
  const names: string[] = [];
  const name = (suffix: string): string => {
    const full = `${prefix}${suffix}`;
    names.push(full);
    return full;
  };

  const published = new Counter({
    name: name('events_published_total'),
    help: 'Events published by this process, by type; status "error" when the transport refused them.',
    labelNames: ['type', 'status'] as const,
    registers,
  });
  const handlerDuration = new Histogram({
    name: name('handler_duration_seconds'),
    help: 'Duration of each handler attempt (with its middleware); outcome "error" when it threw.',
    labelNames: ['group', 'handler', 'type', 'outcome'] as const,
    buckets: [...(options.durationBuckets ?? DEFAULT_BUCKETS)],
    registers,
  });
  const retries = new Counter({
    name: name('handler_retries_total'),
    help: 'Failed attempts that will be made again: at once (immediate) or after a delay (delayed).',
    labelNames: ['group', 'handler', 'type', 'kind'] as const,
    registers,
  });
  const deadLetters = new Counter({
    name: name('dead_letters_total'),
    help: 'Events sent to a dead-letter queue; reason is an EDAKIT_* code.',
    labelNames: ['group', 'type', 'reason'] as const,
    registers,
  });
  const sagasStarted = new Counter({
    name: name('saga_instances_started_total'),
    help: 'Saga instances started.',
    labelNames: ['saga'] as const,
    registers,
  });
  const sagasFinished = new Counter({
    name: name('saga_instances_finished_total'),
    help: 'Saga instances finished, by final status (completed, compensated).',
    labelNames: ['saga', 'status'] as const,
    registers,
  });
  const sagaTimeouts = new Counter({
    name: name('saga_timeouts_fired_total'),
    help: 'Saga timers fired: a reply deadline passed (reply) or a re-send came due (retry).',
    labelNames: ['saga', 'kind'] as const,
    registers,
  });

  // Every gauge of one scrape starts collecting before any source answers:
  // they share one read of each source.
  let reading: Promise<Snapshot> | undefined;
  const snapshot = (): Promise<Snapshot> => {
    reading ??= readSources().finally(() => {
      reading = undefined;
    });
    return reading;
  };
  const readSources = async (): Promise<Snapshot> => {
    const [busHealth, transportHealth, outboxStats, sagaCounts] = await Promise.all([
      Promise.all(
        buses.map(async (bus) => ({
          bus,
          health: await within(bus.health(), timeoutMs, 'bus health').catch(() => undefined),
        })),
      ),
      Promise.all(
        transports.map(async (transport) => ({
          transport,
          health: await within(transport.health(), timeoutMs, 'transport health').catch(
            () => undefined,
          ),
        })),
      ),
      Promise.all(
        outboxes.map(async ([outbox, source]) => ({
          name: outbox,
          stats: await within(source.stats(), timeoutMs, 'outbox stats').catch(() => undefined),
        })),
      ),
      Promise.all(
        sagaSources.map((source) =>
          within(source.instanceCounts(), timeoutMs, 'saga instance counts').catch(() => undefined),
        ),
      ),
    ]);
    return {
      buses: busHealth,
      transports: transportHealth,
      outboxes: outboxStats,
      sagas: sagaCounts,
    };
  };
  const allTransportHealth = (current: Snapshot): TransportHealth[] => [
    ...current.buses.flatMap(({ health }) => (health ? [health.transport] : [])),
    ...current.transports.flatMap(({ health }) => (health ? [health] : [])),
  ];
  const backlog = (current: Snapshot, kind: BacklogFigure['kind']): BacklogFigure[] =>
    allTransportHealth(current).flatMap((health) =>
      (health.backlog ?? []).filter((figure) => figure.kind === kind),
    );

  /** A gauge whose series are rebuilt from the sources at every scrape. */
  const gauge = <T extends string>(
    suffix: string,
    help: string,
    labelNames: readonly T[],
    fill: (current: Snapshot, set: (labels: Record<T, string>, value: number) => void) => void,
  ): void => {
    new Gauge<T>({
      name: name(suffix),
      help,
      labelNames,
      registers,
      async collect() {
        const current = await snapshot();
        this.reset();
        fill(current, (labels, value) => this.set(labels, value));
      },
    });
  };

  gauge(
    'bus_up',
    '1 when the bus is started and its transport is not down, else 0.',
    ['bus'],
    (current, set) => {
      for (const { bus, health } of current.buses) {
        const up = health !== undefined && health.state === 'started' && health.status !== 'down';
        set({ bus: bus.source }, up ? 1 : 0);
      }
    },
  );
  gauge(
    'transport_up',
    '1 when a transport given on its own (not through a bus) is not down, else 0.',
    ['transport'],
    (current, set) => {
      for (const { transport, health } of current.transports) {
        set({ transport: transport.name }, health && health.status !== 'down' ? 1 : 0);
      }
    },
  );
  gauge(
    'consumer_up',
    '1 while the consumer of a group runs; 0 when it crashed, lost its channel or is stopping.',
    ['group'],
    (current, set) => {
      const running = new Map<string, boolean>();
      const record = (group: string, up: boolean): void => {
        running.set(group, (running.get(group) ?? true) && up);
      };
      for (const { health } of current.buses) {
        for (const subscription of health?.subscriptions ?? []) {
          record(subscription.group, subscription.running);
        }
      }
      for (const health of allTransportHealth(current)) {
        for (const consumer of health.consumers ?? []) record(consumer.group, consumer.running);
      }
      for (const [group, up] of running) set({ group }, up ? 1 : 0);
    },
  );
  gauge('handlers_in_flight', 'Events being handled now, per group.', ['group'], (current, set) => {
    const byGroup = new Map<string, number>();
    for (const { health } of current.buses) {
      for (const { group, inFlight } of health?.subscriptions ?? []) {
        byGroup.set(group, (byGroup.get(group) ?? 0) + inFlight);
      }
    }
    for (const [group, count] of byGroup) set({ group }, count);
  });
  gauge(
    'consumer_lag',
    "Kafka: messages after the group's committed offset, per topic (main and retry) and partition.",
    ['group', 'topic', 'partition'],
    (current, set) => {
      for (const figure of backlog(current, 'partition')) {
        const partition = String(figure.partition ?? 0);
        set({ group: figure.group ?? '', topic: figure.name, partition }, figure.messages);
      }
    },
  );
  gauge(
    'queue_depth',
    'RabbitMQ and memory: messages ready in a queue (main, retry, dead-letter, unroutable).',
    ['group', 'queue'],
    (current, set) => {
      for (const figure of backlog(current, 'queue')) {
        set({ group: figure.group ?? '', queue: figure.name }, figure.messages);
      }
    },
  );
  const outboxGauge = (
    suffix: string,
    help: string,
    value: (stats: OutboxFigures) => number,
  ): void =>
    gauge(suffix, help, ['outbox'], (current, set) => {
      for (const { name: outbox, stats } of current.outboxes) {
        if (stats) set({ outbox }, value(stats));
      }
    });
  outboxGauge(
    'outbox_pending',
    'Outbox rows not yet published (dead rows included).',
    (stats) => stats.pending,
  );
  outboxGauge(
    'outbox_oldest_pending_age_seconds',
    'Age of the oldest unpublished outbox row; 0 when none.',
    (stats) => stats.oldestPendingAgeMs / 1000,
  );
  outboxGauge(
    'outbox_dead',
    'Outbox rows that exhausted their attempts; each blocks its key until replayed.',
    (stats) => stats.dead,
  );

  gauge(
    'saga_instances',
    'Saga instances by status as their store holds them: running, and finished ones (completed, compensated) until the store drops their tombstones.',
    ['saga', 'status'],
    (current, set) => {
      for (const counts of current.sagas) {
        for (const { saga, status, count } of counts ?? []) set({ saga, status }, count);
      }
    },
  );

  const observer: BusObserver = {
    onPublish({ events, error }) {
      const status = error === undefined ? 'ok' : 'error';
      if (events.length === 1) {
        published.inc({ type: (events[0] as EventEnvelope).type, status });
        return;
      }
      const byType = new Map<string, number>();
      for (const event of events) byType.set(event.type, (byType.get(event.type) ?? 0) + 1);
      for (const [type, count] of byType) published.inc({ type, status }, count);
    },
    onHandlerAttempt({ group, handler, type, durationMs, error }) {
      handlerDuration.observe(
        { group, handler, type, outcome: error === undefined ? 'success' : 'error' },
        durationMs / 1000,
      );
    },
    onRetry({ group, handler, type, kind }) {
      retries.inc({ group, handler: handler ?? '', type: type ?? UNKNOWN_TYPE, kind });
    },
    onDeadLetter({ group, type, reason }) {
      deadLetters.inc({ group, type: type ?? UNKNOWN_TYPE, reason });
    },
  };
  const saga: SagaObserver = {
    onSagaStarted: ({ saga: sagaName }) => sagasStarted.inc({ saga: sagaName }),
    onSagaFinished: ({ saga: sagaName, status }) => sagasFinished.inc({ saga: sagaName, status }),
    onSagaTimeout: ({ saga: sagaName, kind }) => sagaTimeouts.inc({ saga: sagaName, kind }),
  };
  const detach = [
    ...buses.map((bus) => bus.observe(observer)),
    ...sagaSources.flatMap((source) => (source.observe ? [source.observe(saga)] : [])),
  ];

  return {
    registry,
    observer,
    saga,
    close() {
      for (const off of detach.splice(0)) off();
      for (const metric of names.splice(0)) registry.removeSingleMetric(metric);
    },
  };
}
