import { parseWireMessage, type RawEvent, toEnvelope } from '../codec/decode';
import type { HeaderNaming } from '../codec/wire-message';
import type { ContractRegistry } from '../contract/registry';
import { FailureHeaders } from '../dead-letter/failure-headers';
import type { EventEnvelope } from '../envelope/event-envelope';
import { UnknownEventError } from '../errors/decode-errors';
import { HandlerTimeoutError } from '../errors/handling-errors';
import type { ContextPublish, HandlerContext } from '../handler/handler';
import type { Logger } from '../logging/logger';
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
}

/**
 * Core's side of one delivery: decode, upcast, run the group's handlers with
 * immediate retries, and decide the outcome. Never throws.
 */
export async function handleDelivery(
  delivery: Delivery,
  signal: AbortSignal,
  options: DeliveryHandlerOptions,
): Promise<SettleOutcome> {
  const { group, logger, policy } = options;
  let raw: RawEvent | undefined;
  const fail = (error: unknown, attempts: number, handler?: string): SettleOutcome => {
    const outcome = decideFailure(error, {
      delivery,
      group,
      handler,
      attempts,
      policy,
      now: new Date(),
    });
    logOutcome(logger, outcome, error, {
      group,
      handler,
      channel: delivery.channel,
      eventId: raw?.id,
      eventType: raw?.type,
      correlationId: raw?.correlationid,
    });
    return outcome;
  };

  try {
    raw = parseWireMessage(delivery.message, {
      naming: options.naming,
      maxBytes: options.maxBytes,
      channel: delivery.channel,
    });
  } catch (error) {
    return fail(error, 0);
  }

  const handlers = options.handlersByType.get(raw.type);
  if (!handlers) {
    // Known types without a handler here share the channel legitimately.
    if (options.registry.has(raw.type) || options.unknownEvents === 'ignore') return ack;
    return fail(
      new UnknownEventError(raw.type, { eventId: raw.id, channel: delivery.channel, group }),
      0,
    );
  }

  const events = new Map<ResolvedHandler, EventEnvelope>();
  for (const handler of handlers) {
    try {
      events.set(handler, toEnvelope(raw, handler.contract, delivery.channel));
    } catch (error) {
      return fail(error, 0, handler.name);
    }
  }

  const previousAttempts = Number(delivery.message.headers[FailureHeaders.attempts] ?? 0) || 0;
  let pending = [...handlers];
  let lastError: unknown;
  let lastHandler: string | undefined;
  let attempt = 0;
  while (attempt < policy.attemptsPerDelivery) {
    attempt++;
    const failed: ResolvedHandler[] = [];
    for (const handler of pending) {
      if (signal.aborted) return release;
      const event = events.get(handler) as EventEnvelope;
      try {
        await runHandler(
          handler,
          event,
          {
            group,
            handler: handler.name,
            channel: delivery.channel,
            attempt: previousAttempts + attempt,
            receivedVersion: raw.dataversion,
            signal,
            publish: options.publishFrom(event),
            logger,
          },
          options.handlerTimeoutMs,
        );
      } catch (error) {
        // A stop that interrupted the handler is not the event's fault.
        if (signal.aborted) return release;
        failed.push(handler);
        lastError = error;
        lastHandler = handler.name;
        if (!describeFailure(error).retryable) return fail(error, attempt, handler.name);
      }
    }
    if (failed.length === 0) return ack;
    pending = failed;
  }
  return fail(lastError, attempt, lastHandler);
}

async function runHandler(
  handler: ResolvedHandler,
  event: EventEnvelope,
  context: HandlerContext,
  timeoutMs: number | undefined,
): Promise<void> {
  if (timeoutMs === undefined) return handler.run(event, context);
  const timeout = new AbortController();
  const signal = AbortSignal.any([context.signal, timeout.signal]);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new HandlerTimeoutError(timeoutMs, {
        handler: handler.name,
        eventType: event.type,
        eventId: event.id,
        group: context.group,
      });
      timeout.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    await Promise.race([handler.run(event, { ...context, signal }), expired]);
  } finally {
    clearTimeout(timer);
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
    logger.warn(
      { ...details, delayMs: outcome.delayMs, retry: outcome.headers[FailureHeaders.retries] },
      'event will be retried',
    );
  } else if (outcome.type === 'deadLetter') {
    logger.error(
      { ...details, reason: outcome.headers[FailureHeaders.deadLetterReason] },
      'event dead-lettered',
    );
  }
}
