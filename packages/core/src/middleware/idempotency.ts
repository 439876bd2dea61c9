import type { EventEnvelope } from '../envelope/event-envelope';
import { EventInFlightError } from '../errors/handling-errors';
import { InvalidOptionsError } from '../errors/usage-errors';
import type { HandlerContext } from '../handler/handler';
import type { IdempotencyStore } from '../idempotency/idempotency-store';
import type { Middleware } from './middleware';

export interface IdempotencyOptions {
  readonly store: IdempotencyStore;
  /** How long a consumer holds an event before others may take it. Default 30 s. */
  readonly leaseMs?: number;
  /**
   * How long "done" is remembered. Must outlast the retry schedule and any DLQ
   * replay you may do. Default 7 days.
   */
  readonly windowMs?: number;
  /** Default: `<group>:<handler>:<source>:<id>` — (source, id) identifies an event. */
  readonly key?: (event: EventEnvelope, context: HandlerContext) => string;
}

/**
 * Skips an event a handler already processed. Lease-based: an event another
 * consumer is processing right now is retried later (EDAKIT_EVENT_IN_FLIGHT),
 * a handler that throws releases its lease so the retry runs it again, and a
 * long handler renews its lease. Best effort across stores that can lose data;
 * for database side effects use a transactional inbox (@edakit/outbox).
 *
 * @example
 * createBus({ transport, source, middleware: [idempotency({ store: new MemoryIdempotencyStore() })] });
 */
export function idempotency(options: IdempotencyOptions): Middleware {
  const leaseMs = options.leaseMs ?? 30_000;
  const windowMs = options.windowMs ?? 7 * 24 * 60 * 60 * 1000;
  if (!(leaseMs > 0) || !(windowMs > 0)) {
    throw new InvalidOptionsError('idempotency leaseMs and windowMs must be positive', {
      leaseMs,
      windowMs,
    });
  }
  const keyOf =
    options.key ??
    ((event: EventEnvelope, context: HandlerContext) =>
      `${context.group}:${context.handler}:${event.source}:${event.id}`);
  const { store } = options;

  return async function idempotencyMiddleware(event, context, next) {
    const key = keyOf(event, context);
    const acquired = await store.acquire(key, leaseMs);
    if (acquired.status === 'done') {
      context.logger.debug(
        { eventId: event.id, handler: context.handler },
        'duplicate event skipped',
      );
      return;
    }
    if (acquired.status === 'in-flight') {
      throw new EventInFlightError({
        eventId: event.id,
        eventType: event.type,
        handler: context.handler,
      });
    }
    const { token } = acquired;
    const fields = { eventId: event.id, eventType: event.type, handler: context.handler };
    // Renew while the handler runs, and only while: a stopped, aborted or finished
    // handler must not keep others from the event.
    const renewal = setInterval(
      () => {
        if (context.signal.aborted) {
          clearInterval(renewal);
          return;
        }
        store.renew(key, token, leaseMs).then(
          (held) => {
            if (held) return;
            clearInterval(renewal);
            context.logger.warn(
              fields,
              'idempotency lease lost while the handler ran: another consumer may run it too',
            );
          },
          (error: unknown) =>
            context.logger.warn(
              { ...fields, error: String(error) },
              'idempotency lease renewal failed',
            ),
        );
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    renewal.unref();
    try {
      await next();
    } catch (error) {
      clearInterval(renewal);
      await store.release(key, token).catch(() => false);
      throw error;
    }
    clearInterval(renewal);
    // The work is done: failing here would run it again. Try hard, then say so.
    for (let attempt = 1; ; attempt++) {
      try {
        if (!(await store.markDone(key, token, windowMs))) {
          context.logger.warn(
            fields,
            'idempotency lease expired before the handler finished: the event may be processed again',
          );
        }
        return;
      } catch (error) {
        if (attempt >= 3) {
          context.logger.error(
            { ...fields, error: String(error) },
            'could not record the event as processed: it may be processed again after the lease expires',
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  };
}
