import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { Subscription } from '@edakit/core';
import { HttpError } from '../platform/http';
import type { Service, ServiceDeps } from '../platform/service';
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
 * Serves the order-summary read model. POST /order-summaries/rebuild replays
 * the whole log into a fresh projection (a new consumer group reading from
 * the earliest offset), compares it with the live one and takes its place.
 * RabbitMQ queues keep no log to replay, so there it answers 409.
 */
export function orderSummaryService({ bus, config }: ServiceDeps): Service {
  let live = new OrderSummaryProjection();
  let subscription: Subscription | undefined;
  let rebuilds = 0;
  let rebuilding: Promise<RebuildReport> | undefined;

  const follow = (projection: OrderSummaryProjection, group: string) =>
    bus.subscribe({
      group,
      startFrom: 'earliest',
      concurrency: 16,
      handlers: projection.handlers(),
    });

  const rebuild = async (): Promise<RebuildReport> => {
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
        return {
          orders: fresh.list().length,
          events: fresh.eventsApplied,
          equal,
          ms: Date.now() - started,
        };
      }
    }
    await next.stop(5_000);
    throw new HttpError(
      504,
      'REBUILD_TIMEOUT',
      `The rebuild did not catch up within ${REBUILD_TIMEOUT_MS} ms`,
    );
  };

  return {
    name: 'order-summary',
    async start() {
      // The projection lives in memory: a restarted process must read the whole log again,
      // not carry on from the offsets its previous life committed. Where the broker keeps a
      // log, each start is a new group (Kafka expires the old ones' offsets); RabbitMQ keeps
      // none, so there the group stays and the model holds what arrived since it first ran.
      subscription = follow(
        live,
        config.TRANSPORT === 'rabbitmq' ? 'order-summary' : `order-summary-${Date.now()}`,
      );
    },
    async stop() {
      await rebuilding?.catch(() => undefined);
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
          if (config.TRANSPORT === 'rabbitmq') {
            throw new HttpError(
              409,
              'REPLAY_UNSUPPORTED',
              'RabbitMQ queues keep no log to replay; rebuild on Kafka or the memory transport',
            );
          }
          rebuilding ??= rebuild().finally(() => {
            rebuilding = undefined;
          });
          return { json: await rebuilding };
        },
      },
    ],
  };
}
