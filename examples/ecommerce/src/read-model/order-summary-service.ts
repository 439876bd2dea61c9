import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { on, type Subscription } from '@edakit/core';
import { HttpError } from '../platform/http';
import type { Service, ServiceDeps } from '../platform/service';
import { EventArchive, orderSummaryArchiveTable } from './event-archive';
import { OrderSummaryProjection } from './order-summary';

/** A rebuild is caught up when it has seen what the live model has and nothing moved for this long. */
const SETTLE_MS = 500;
const REBUILD_TIMEOUT_MS = 60_000;

export interface RebuildReport {
  readonly orders: number;
  readonly events: number;
  /** Whether the rebuilt model equals the live one it replaces. */
  readonly equal: boolean;
  readonly ms: number;
}

/**
 * Serves the order-summary read model. POST /order-summaries/rebuild builds a
 * fresh projection from every event so far, compares it with the live one and
 * takes its place. Where the broker keeps a log (Kafka, memory) the replay is
 * a new consumer group from the earliest offset; RabbitMQ keeps none, so
 * there the service archives each event in PostgreSQL before applying it and
 * replays the archive (at start too: the model lives in memory).
 */
export function orderSummaryService({ bus, config }: ServiceDeps): Service {
  let live = new OrderSummaryProjection();
  let subscription: Subscription | undefined;
  let archive: EventArchive | undefined;
  let rebuilds = 0;
  let rebuilding: Promise<RebuildReport> | undefined;

  const follow = (projection: OrderSummaryProjection, group: string) =>
    bus.subscribe({
      group,
      startFrom: 'earliest',
      concurrency: 16,
      handlers: projection.handlers(),
    });

  const report = (fresh: OrderSummaryProjection, equal: boolean, started: number) => ({
    orders: fresh.list().length,
    events: fresh.eventsApplied,
    equal,
    ms: Date.now() - started,
  });

  /** Kafka and memory: a new group reads the log from the start until it has caught up. */
  const rebuildFromLog = async (): Promise<RebuildReport> => {
    const started = Date.now();
    const fresh = new OrderSummaryProjection();
    rebuilds += 1;
    const next = follow(fresh, `order-summary-rebuild-${Date.now()}-${rebuilds}`);
    let last = -1;
    let stableSince = Date.now();
    while (Date.now() - started < REBUILD_TIMEOUT_MS) {
      await sleep(50);
      if (fresh.eventsApplied !== last) {
        last = fresh.eventsApplied;
        stableSince = Date.now();
      } else if (
        fresh.eventsApplied >= live.eventsApplied &&
        Date.now() - stableSince >= SETTLE_MS
      ) {
        const equal = isDeepStrictEqual(fresh.list(), live.list());
        const previous = subscription;
        live = fresh;
        subscription = next;
        await previous?.stop(5_000);
        return report(fresh, equal, started);
      }
    }
    await next.stop(5_000);
    throw new HttpError(
      504,
      'REBUILD_TIMEOUT',
      `The rebuild did not catch up within ${REBUILD_TIMEOUT_MS} ms`,
    );
  };

  /**
   * RabbitMQ: replays the archive. An event is archived before the live model
   * applies it, so the replay may be a step ahead: replay again (idempotent)
   * until both agree or the live model stops moving.
   */
  const rebuildFromArchive = async (from: EventArchive): Promise<RebuildReport> => {
    const started = Date.now();
    const fresh = new OrderSummaryProjection();
    let equal = false;
    while (!equal && Date.now() - started < SETTLE_MS * 10) {
      await from.replay((event) => fresh.apply(event));
      equal = isDeepStrictEqual(fresh.list(), live.list());
      if (!equal) await sleep(SETTLE_MS / 5);
    }
    live = fresh; // the subscription applies to whichever projection is live
    return report(fresh, equal, started);
  };

  return {
    name: 'order-summary',
    async start() {
      if (config.TRANSPORT === 'rabbitmq') {
        const kept = await EventArchive.open(
          config.DATABASE_URL,
          orderSummaryArchiveTable(config.SHOP_NAMESPACE),
        );
        archive = kept;
        await kept.replay((event) => live.apply(event));
        subscription = bus.subscribe({
          group: 'order-summary',
          concurrency: 16,
          handlers: live.handlers().map(({ contract }) =>
            on(contract, async (event) => {
              await kept.append(event);
              live.apply(event);
            }),
          ),
        });
        return;
      }
      // The projection lives in memory: a restarted process reads the whole log again
      // under a group of its own, instead of carrying on from its previous life's offsets
      // (Kafka expires the offsets of groups nobody uses).
      subscription = follow(live, `order-summary-${Date.now()}`);
    },
    async stop() {
      await rebuilding?.catch(() => undefined);
      await archive?.close();
    },
    routes: [
      {
        method: 'GET',
        path: '/order-summaries',
        handle: async () => ({ json: live.list() }),
      },
      {
        method: 'GET',
        path: '/order-summaries/:orderId',
        async handle({ params }) {
          const summary = live.get(params.orderId as string);
          if (!summary)
            throw new HttpError(404, 'UNKNOWN_ORDER', `No summary for ${params.orderId}`);
          return { json: summary };
        },
      },
      {
        method: 'POST',
        path: '/order-summaries/rebuild',
        async handle() {
          rebuilding ??= (archive ? rebuildFromArchive(archive) : rebuildFromLog()).finally(() => {
            rebuilding = undefined;
          });
          return { json: await rebuilding };
        },
      },
    ],
  };
}
