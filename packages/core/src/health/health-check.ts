import type { Bus, BusHealth } from '../bus/create-bus';
import { messageOf } from '../errors/message-of';
import type {
  BacklogFigure,
  HealthStatus,
  Transport,
  TransportHealth,
} from '../transport/transport';

/** What an outbox relay's (or store's) `stats()` gives: core does not depend on @edakit/outbox. */
export interface OutboxFigures {
  /** Rows not yet published, dead rows included. */
  readonly pending: number;
  /** Age of the oldest unpublished row, 0 when there is none. */
  readonly oldestPendingAgeMs: number;
  /** Rows that exhausted their attempts. */
  readonly dead: number;
}

/** Anything with the outbox figures: `createRelay(...)`, an outbox store. */
export interface OutboxFiguresSource {
  stats(): Promise<OutboxFigures>;
}

/** Above a threshold a check is `degraded`; an absent threshold is not checked. */
export interface HealthThresholds {
  /** Kafka: messages a group is behind on its main topics, summed over partitions. */
  readonly maxLag?: number;
  /** RabbitMQ, memory: messages ready in one main queue of a group. */
  readonly maxQueueDepth?: number;
  /** Age of an outbox's oldest unpublished row, milliseconds. */
  readonly maxOutboxAgeMs?: number;
}

export interface HealthCheckOptions {
  /** Each bus: its state, its transport, its consumers and their backlog. */
  readonly buses?: readonly Bus[];
  /** Transports not behind one of `buses` (an outbox relay's own transport). */
  readonly transports?: readonly Transport[];
  /** Outbox relays by name: `{ orders: relay }`. */
  readonly outboxes?: Readonly<Record<string, OutboxFiguresSource>>;
  readonly thresholds?: HealthThresholds;
  /** A source that does not answer within this is `down`. Default 5,000 ms. */
  readonly timeoutMs?: number;
}

/** One check of a report. */
export interface HealthCheckResult {
  /** What was checked: `bus /services/orders`, `transport kafka`, `consumer billing`, `lag billing`, `queue billing`, `outbox orders`. */
  readonly name: string;
  readonly status: HealthStatus;
  /** False when this process is stuck in a way a restart fixes: a consumer stopped while its broker answers. */
  readonly live: boolean;
  /** Why the check is not `up` (or what it measured). */
  readonly message?: string | undefined;
  /** The figure compared with `threshold`: lag, depth, age in ms. */
  readonly observed?: number | undefined;
  readonly threshold?: number | undefined;
}

/**
 * A health report. `status` is the worst check's; `ready` (take traffic) is
 * false only when something is `down`; `live` (no restart needed) is false
 * only when a check says a restart would help. Broker outages make a process
 * unready, never unlive: restarting it does not bring the broker back.
 */
export interface HealthReport {
  readonly status: HealthStatus;
  readonly live: boolean;
  readonly ready: boolean;
  readonly checks: readonly HealthCheckResult[];
}

const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Checks buses, transports and outboxes once and reports, as a plain object.
 * Never rejects: a source that fails or does not answer in time is `down`.
 *
 * @example
 * const report = await healthCheck({ buses: [bus], outboxes: { orders: relay }, thresholds: { maxLag: 10_000, maxOutboxAgeMs: 60_000 } });
 * if (!report.ready) console.warn(report.checks.filter((check) => check.status !== 'up'));
 */
export async function healthCheck(options: HealthCheckOptions): Promise<HealthReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const thresholds = options.thresholds ?? {};
  const parts = await Promise.all([
    ...(options.buses ?? []).map(async (bus) => {
      const name = `bus ${bus.source}`;
      try {
        return busChecks(await within(bus.health(), timeoutMs, name), name, thresholds);
      } catch (error) {
        return [unanswered(name, error)];
      }
    }),
    ...(options.transports ?? []).map(async (transport) => {
      const name = `transport ${transport.name}`;
      try {
        const health = await within(transport.health(), timeoutMs, name);
        return transportChecks(health, name, new Set(), thresholds);
      } catch (error) {
        return [unanswered(name, error)];
      }
    }),
    ...Object.entries(options.outboxes ?? {}).map(async ([outbox, source]) => {
      const name = `outbox ${outbox}`;
      try {
        const stats = await within(source.stats(), timeoutMs, name);
        return [outboxCheck(name, stats, thresholds.maxOutboxAgeMs)];
      } catch (error) {
        return [unanswered(name, error)];
      }
    }),
  ]);
  const checks = mergeByName(parts.flat());
  const status = worst(checks.map((check) => check.status));
  return {
    status,
    live: checks.every((check) => check.live),
    ready: status !== 'down',
    checks,
  };
}

function busChecks(
  health: BusHealth,
  name: string,
  thresholds: HealthThresholds,
): HealthCheckResult[] {
  const started = health.state === 'started';
  const checks: HealthCheckResult[] = [
    {
      name,
      status: started ? 'up' : 'down',
      live: true,
      message: started ? undefined : `the bus is ${health.state}`,
    },
  ];
  // The bus's own view of its subscriptions: one that failed to start has no transport consumer.
  const reported = new Set((health.transport.consumers ?? []).map((consumer) => consumer.group));
  const missing = new Set<string>();
  if (started) {
    for (const subscription of health.subscriptions) {
      if (!subscription.running && !reported.has(subscription.group)) {
        missing.add(subscription.group);
        checks.push(
          consumerCheck(subscription.group, false, health.transport.status, 'not consuming'),
        );
      }
    }
  }
  const transportName = `transport ${health.transportName}`;
  return [...checks, ...transportChecks(health.transport, transportName, missing, thresholds)];
}

function transportChecks(
  health: TransportHealth,
  name: string,
  skip: ReadonlySet<string>,
  thresholds: HealthThresholds,
): HealthCheckResult[] {
  const error = health.details.error;
  const checks: HealthCheckResult[] = [
    {
      name,
      status: health.status,
      live: true,
      message: health.status === 'up' ? undefined : typeof error === 'string' ? error : undefined,
    },
  ];
  for (const consumer of health.consumers ?? []) {
    if (skip.has(consumer.group)) continue;
    checks.push(consumerCheck(consumer.group, consumer.running, health.status, consumer.lastError));
  }
  checks.push(...backlogChecks(health.backlog ?? [], thresholds));
  return checks;
}

/**
 * A consumer that does not run is `down`; while its broker answers, a
 * restart would help (a crashed Kafka consumer), so it is not live either.
 */
function consumerCheck(
  group: string,
  running: boolean,
  transportStatus: HealthStatus,
  lastError: string | undefined,
): HealthCheckResult {
  if (running) return { name: `consumer ${group}`, status: 'up', live: true };
  return {
    name: `consumer ${group}`,
    status: 'down',
    live: transportStatus === 'down',
    message: lastError ?? 'not running',
  };
}

/** Lag per group (Kafka partitions of main topics, summed) and depth per main queue. */
function backlogChecks(
  backlog: readonly BacklogFigure[],
  thresholds: HealthThresholds,
): HealthCheckResult[] {
  const lagByGroup = new Map<string, number>();
  const checks: HealthCheckResult[] = [];
  for (const figure of backlog) {
    if (figure.role !== 'work' || figure.group === undefined) continue;
    if (figure.kind === 'partition') {
      lagByGroup.set(figure.group, (lagByGroup.get(figure.group) ?? 0) + figure.messages);
    } else {
      checks.push(
        thresholdCheck(`queue ${figure.name}`, figure.messages, thresholds.maxQueueDepth),
      );
    }
  }
  for (const [group, lag] of lagByGroup) {
    checks.push(thresholdCheck(`lag ${group}`, lag, thresholds.maxLag));
  }
  return checks;
}

function outboxCheck(
  name: string,
  stats: OutboxFigures,
  maxAgeMs: number | undefined,
): HealthCheckResult {
  const check = thresholdCheck(name, stats.oldestPendingAgeMs, maxAgeMs);
  return {
    ...check,
    message: `${stats.pending} pending, oldest ${Math.round(stats.oldestPendingAgeMs)} ms, ${stats.dead} dead`,
  };
}

function thresholdCheck(
  name: string,
  observed: number,
  threshold: number | undefined,
): HealthCheckResult {
  const over = threshold !== undefined && observed > threshold;
  return {
    name,
    status: over ? 'degraded' : 'up',
    live: true,
    message: over ? `${observed} is over ${threshold}` : undefined,
    observed,
    threshold,
  };
}

/**
 * One check per name: buses that share a transport each report it and its
 * consumers, and a report should list each once, at its worst.
 */
function mergeByName(checks: readonly HealthCheckResult[]): HealthCheckResult[] {
  const byName = new Map<string, HealthCheckResult>();
  for (const check of checks) {
    const seen = byName.get(check.name);
    if (
      seen === undefined ||
      RANK[check.status] > RANK[seen.status] ||
      (seen.live && !check.live)
    ) {
      byName.set(check.name, check);
    }
  }
  return [...byName.values()];
}

function unanswered(name: string, error: unknown): HealthCheckResult {
  return { name, status: 'down', live: true, message: messageOf(error) };
}

const RANK: Record<HealthStatus, number> = { up: 0, degraded: 1, down: 2 };

/** The worst of `statuses`; `up` when there are none. */
export function worst(statuses: readonly HealthStatus[]): HealthStatus {
  let result: HealthStatus = 'up';
  for (const status of statuses) if (RANK[status] > RANK[result]) result = status;
  return result;
}

/** `promise`, or a rejection once `timeoutMs` passed. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
