import { parseWireMessage, type RawEvent, toEnvelope } from '../codec/decode';
import type { HeaderNaming } from '../codec/wire-message';
import type { ContractRegistry } from '../contract/registry';
import { FailureHeaders } from '../dead-letter/failure-headers';
import type { EventEnvelope } from '../envelope/event-envelope';
import { UnknownEventError } from '../errors/decode-errors';
import { ErrorCodes } from '../errors/error-codes';
import { HandlerTimeoutError } from '../errors/handling-errors';
import type { ContextPublish, HandlerContext } from '../handler/handler';
import { EventLogger } from '../logging/event-logger';
import type { Logger } from '../logging/logger';
import { traceLogFields } from '../logging/trace-fields';
import type { ObserverSet } from '../observability/observer-set';
import { decideFailure, describeFailure } from '../retry/failure-outcome';
import type { RetryPolicy } from '../retry/retry-policy';
import { ack, release, type SettleOutcome } from '../transport/settle-outcome';
import type { Delivery } from '../transport/transport';
import type { ResolvedHandler } from './resolve-handlers';

export interface DeliveryHandlerOptions {
  readonly group: string;
  readonly handlersByType: ReadonlyMap<string, readonly ResolvedHandler[]>;
  readonly registry: ContractRegistry;
  readonly policy: RetryPolicy;
  readonly naming: HeaderNaming | undefined;
  readonly maxBytes: number | undefined;
  readonly handlerTimeoutMs: number | undefined;
  readonly unknownEvents: 'deadLetter' | 'ignore';
  readonly logger: Logger;
  readonly publishFrom: (event: EventEnvelope) => ContextPublish;
  /** Told about every attempt, retry and dead letter, when any is attached. */
  readonly observers: ObserverSet;
}

/**
 * Core's side of one delivery: decode, upcast, run the group's handlers with
 * immediate retries, and decide the outcome. Never throws: an internal fault
 * becomes a delayed retry, so a transport can never spin on a rejection.
 */
export async function handleDelivery(
  delivery: Delivery,
  signal: AbortSignal,
  options: DeliveryHandlerOptions,
): Promise<SettleOutcome> {
  // One async function per delivery: the body is inline, not a second call.
  try {
    const { group, logger, policy } = options;
    const headers = delivery.message.headers;
    const handledHeader = headers[FailureHeaders.handledBy];
    const handledBefore = handledHeader === undefined ? NONE : readHandledBy(handledHeader);

    let raw: RawEvent;
    try {
      raw = parseWireMessage(delivery.message, {
        naming: options.naming,
        maxBytes: options.maxBytes,
        channel: delivery.channel,
      });
    } catch (error) {
      return fail(delivery, options, handledBefore, undefined, error, 0);
    }

    const handlers = options.handlersByType.get(raw.type);
    if (!handlers) {
      // Known types without a handler here share the channel legitimately.
      if (options.registry.has(raw.type) || options.unknownEvents === 'ignore') return ack;
      return fail(
        delivery,
        options,
        handledBefore,
        raw,
        new UnknownEventError(raw.type, { eventId: raw.id, channel: delivery.channel, group }),
        0,
      );
    }

    // One envelope per handler (handlers may read the type in different versions),
    // at the handler's index: no Map per delivery.
    const events: EventEnvelope[] = new Array(handlers.length);
    for (let i = 0; i < handlers.length; i++) {
      const handler = handlers[i] as ResolvedHandler;
      try {
        events[i] = toEnvelope(raw, handler.contract, delivery.channel);
      } catch (error) {
        return fail(delivery, options, handledBefore, raw, error, 0, handler.name);
      }
    }

    // Handlers that succeeded on an earlier delivery (retry, redrive) do not run again.
    let pending: readonly ResolvedHandler[] =
      handledBefore.size === 0
        ? handlers
        : handlers.filter((handler) => !handledBefore.has(handler.name));
    let succeeded: string[] | undefined;
    const previousAttempts = Number(headers[FailureHeaders.attempts] ?? 0) || 0;
    let failures: Failure[] | undefined;
    let attempt = 0;
    const { observers } = options;
    const observed = observers.active;
    while (pending.length > 0 && attempt < policy.attemptsPerDelivery) {
      attempt++;
      failures = undefined;
      // Every pending handler runs before the outcome is decided: one handler's
      // permanent failure must not cost its siblings their turn.
      for (const handler of pending) {
        if (signal.aborted) return release;
        const event = events[handlers.indexOf(handler)] as EventEnvelope;
        const startedAt = observed ? performance.now() : 0;
        try {
          const context: HandlerContext = {
            group,
            handler: handler.name,
            channel: delivery.channel,
            attempt: previousAttempts + attempt,
            receivedVersion: raw.dataversion,
            signal,
            publish: options.publishFrom(event),
            logger: new EventLogger(logger, event, group, handler.name, previousAttempts + attempt),
          };
          const running =
            options.handlerTimeoutMs === undefined
              ? handler.run(event, context)
              : runWithTimeout(handler, event, context, options.handlerTimeoutMs);
          // A handler that finished synchronously costs no promise and no extra tick.
          if (isThenable(running)) await running;
          if (observed) {
            observers.handlerAttempt({
              group,
              handler: handler.name,
              type: handler.contract.type,
              channel: delivery.channel,
              attempt: previousAttempts + attempt,
              durationMs: performance.now() - startedAt,
            });
          }
          // Only a sibling's failure needs the list; a lone handler's success is an ack.
          if (pending.length > 1) {
            if (succeeded === undefined) succeeded = [handler.name];
            else succeeded.push(handler.name);
          }
        } catch (error) {
          // A stop that interrupted the handler is not the event's fault.
          if (signal.aborted) return release;
          if (observed) {
            observers.handlerAttempt({
              group,
              handler: handler.name,
              type: handler.contract.type,
              channel: delivery.channel,
              attempt: previousAttempts + attempt,
              durationMs: performance.now() - startedAt,
              error,
            });
          }
          if (failures === undefined) failures = [{ handler, error }];
          else failures.push({ handler, error });
        }
      }
      if (failures === undefined) return ack;
      pending = failures.map((failure) => failure.handler);
      const permanent = failures.find((failure) => !describeFailure(failure.error).retryable);
      if (permanent)
        return fail(
          delivery,
          options,
          handledBefore,
          raw,
          permanent.error,
          attempt,
          permanent.handler.name,
          succeeded,
        );
      if (observed && attempt < policy.attemptsPerDelivery) {
        for (const failure of failures) {
          observers.retry({
            group,
            handler: failure.handler.name,
            type: failure.handler.contract.type,
            channel: delivery.channel,
            kind: 'immediate',
            error: failure.error,
          });
        }
      }
    }
    const last = failures?.[failures.length - 1];
    if (pending.length === 0 || !last) return ack;
    return fail(
      delivery,
      options,
      handledBefore,
      raw,
      last.error,
      attempt,
      last.handler.name,
      succeeded,
    );
  } catch (error) {
    log(
      options.logger,
      'error',
      { group: options.group, channel: delivery.channel, error: describeFailure(error).message },
      'edakit failed to handle a delivery; retrying it later',
    );
    return {
      type: 'retry',
      delayMs: Math.max(1000, options.policy.delayFor(1)),
      headers: { ...delivery.message.headers },
    };
  }
}

interface Failure {
  readonly handler: ResolvedHandler;
  readonly error: unknown;
}

const NONE: ReadonlySet<string> = new Set();

/** The outcome of a failure: retry or dead letter, logged, with the handled-by list. */
function fail(
  delivery: Delivery,
  options: DeliveryHandlerOptions,
  handledBefore: ReadonlySet<string>,
  raw: RawEvent | undefined,
  error: unknown,
  attempts: number,
  handler?: string,
  handled: readonly string[] = [],
): SettleOutcome {
  const { group, logger, policy } = options;
  const outcome = decideFailure(error, {
    delivery,
    group,
    handler,
    attempts,
    policy,
    now: new Date(),
  });
  if (
    outcome.type !== 'ack' &&
    outcome.type !== 'release' &&
    (handledBefore.size > 0 || handled.length > 0)
  ) {
    const all = JSON.stringify([...new Set([...handledBefore, ...handled])]);
    (outcome.headers as Record<string, string>)[FailureHeaders.handledBy] = all;
  }
  if (options.observers.active) observeOutcome(options, outcome, delivery, raw, error, handler);
  logOutcome(logger, outcome, error, {
    group,
    handler,
    channel: delivery.channel,
    eventId: raw?.id,
    eventType: raw?.type,
    correlationId: raw?.correlationid,
    ...traceLogFields(raw?.traceparent),
    attempt: attempts,
  });
  return outcome;
}

/** Tells the observers about a delayed retry or a dead letter. */
function observeOutcome(
  options: DeliveryHandlerOptions,
  outcome: SettleOutcome,
  delivery: Delivery,
  raw: RawEvent | undefined,
  error: unknown,
  handler: string | undefined,
): void {
  // Only a type some contract declares: anything else on the wire is unbounded.
  const type = raw !== undefined && options.registry.has(raw.type) ? raw.type : undefined;
  const common = { group: options.group, handler, type, channel: delivery.channel, error };
  if (outcome.type === 'retry') {
    options.observers.retry({ ...common, kind: 'delayed', delayMs: outcome.delayMs });
  } else if (outcome.type === 'deadLetter') {
    const reason = outcome.headers[FailureHeaders.deadLetterReason] ?? ErrorCodes.NON_RETRYABLE;
    options.observers.deadLetter({ ...common, reason });
  }
}

/**
 * Runs one handler attempt with a deadline. On timeout the attempt fails, but only once the
 * handler has really settled (its signal is aborted): the next attempt, or the
 * next event of the same key, never runs beside a timed-out one.
 */
async function runWithTimeout(
  handler: ResolvedHandler,
  event: EventEnvelope,
  context: HandlerContext,
  timeoutMs: number,
): Promise<void> {
  const timeout = new AbortController();
  const signal = AbortSignal.any([context.signal, timeout.signal]);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), timeoutMs);
  });
  const running = Promise.resolve().then(() => handler.run(event, { ...context, signal }));
  try {
    if ((await Promise.race([running, expired])) !== 'expired') return;
  } finally {
    clearTimeout(timer);
  }
  const error = new HandlerTimeoutError(timeoutMs, {
    handler: handler.name,
    eventType: event.type,
    eventId: event.id,
    group: context.group,
  });
  timeout.abort(error);
  await running.catch(() => undefined);
  throw error;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function readHandledBy(value: string | undefined): Set<string> {
  if (value === undefined) return new Set();
  try {
    const names: unknown = JSON.parse(value);
    return new Set(
      Array.isArray(names) ? names.filter((name): name is string => typeof name === 'string') : [],
    );
  } catch {
    return new Set();
  }
}

function logOutcome(
  logger: Logger,
  outcome: SettleOutcome,
  error: unknown,
  fields: Record<string, unknown>,
): void {
  const failure = describeFailure(error);
  const details = {
    ...fields,
    error: failure.message,
    errorClass: failure.errorClass,
    errorCode: failure.code,
  };
  if (outcome.type === 'retry') {
    log(
      logger,
      'warn',
      { ...details, delayMs: outcome.delayMs, retry: outcome.headers[FailureHeaders.retries] },
      'event will be retried',
    );
  } else if (outcome.type === 'deadLetter') {
    log(
      logger,
      'error',
      { ...details, reason: outcome.headers[FailureHeaders.deadLetterReason] },
      'event dead-lettered',
    );
  }
}

/** A logger that throws must not decide an event's fate. */
function log(
  logger: Logger,
  level: 'warn' | 'error',
  fields: Record<string, unknown>,
  message: string,
): void {
  try {
    logger[level](fields, message);
  } catch {
    // ignored on purpose
  }
}
