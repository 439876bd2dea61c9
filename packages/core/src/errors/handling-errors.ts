import { EdakitError, type ErrorContext } from './edakit-error';
import { ErrorCodes } from './error-codes';

/**
 * Throw from a handler when another attempt cannot help (a business rule
 * rejects the event). The event goes straight to the dead-letter queue.
 *
 * @example
 * if (!customer) throw new NonRetryableError(`customer ${id} does not exist`);
 */
export class NonRetryableError extends EdakitError {
  constructor(message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(ErrorCodes.NON_RETRYABLE, message, { ...options, retryable: false });
  }
}

export class HandlerTimeoutError extends EdakitError {
  constructor(timeoutMs: number, context: ErrorContext) {
    super(
      ErrorCodes.HANDLER_TIMEOUT,
      `Handler "${String(context.handler ?? '?')}" did not finish within ${timeoutMs} ms (event ${context.eventType ?? '?'} ${context.eventId ?? ''})`,
      { context, retryable: true },
    );
  }
}

/** Another consumer is processing this event right now (idempotency lease held). */
export class EventInFlightError extends EdakitError {
  constructor(context: ErrorContext) {
    super(
      ErrorCodes.EVENT_IN_FLIGHT,
      `Event ${context.eventId ?? '?'} is being processed by another consumer of "${String(context.handler ?? '?')}"`,
      { context, retryable: true },
    );
  }
}

export class PublishError extends EdakitError {
  constructor(
    message: string,
    options: { cause?: unknown; context?: ErrorContext; retryable?: boolean } = {},
  ) {
    super(ErrorCodes.PUBLISH_FAILED, message, { retryable: true, ...options });
  }
}

export class SubscribeError extends EdakitError {
  constructor(
    message: string,
    options: { cause?: unknown; context?: ErrorContext; retryable?: boolean } = {},
  ) {
    super(ErrorCodes.SUBSCRIBE_FAILED, message, { retryable: true, ...options });
  }
}

export class TransportClosedError extends EdakitError {
  constructor(transport: string) {
    // Retryable: a closed transport is usually one being replaced or restarted.
    super(ErrorCodes.TRANSPORT_CLOSED, `Transport "${transport}" is closed`, {
      context: { transport },
      retryable: true,
    });
  }
}

export class WaitTimeoutError extends EdakitError {
  constructor(what: string, timeoutMs: number) {
    super(ErrorCodes.WAIT_TIMEOUT, `Timed out after ${timeoutMs} ms waiting for ${what}`, {
      context: { timeoutMs },
    });
  }
}

export class DeadLetterNotFoundError extends EdakitError {
  constructor(id: string, context: ErrorContext = {}) {
    super(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead-lettered message with id "${id}"`, {
      context: { ...context, eventId: id },
    });
  }
}
