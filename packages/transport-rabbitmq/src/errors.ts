import {
  EdakitError,
  ErrorCodes,
  type ErrorContext,
  InvalidOptionsError,
  PublishError,
} from '@edakit/core';

/**
 * The broker already has an exchange or queue of this name with other
 * settings (AMQP 406 PRECONDITION_FAILED). Nothing was changed or deleted:
 * align the options with the broker, or migrate the queue yourself.
 */
export class TopologyMismatchError extends InvalidOptionsError {
  readonly resource: string;
  readonly brokerMessage: string;
  constructor(kind: 'exchange' | 'queue' | 'binding', resource: string, brokerMessage: string) {
    super(
      `RabbitMQ refused to declare ${kind} "${resource}": it exists with different settings (${brokerMessage}). ` +
        'edakit changed and deleted nothing: make the transport options (exchange, queueType, ' +
        'deliveryLimit, singleActiveConsumer, retryTiersMs, unroutable) match it, or migrate the ' +
        `${kind} yourself`,
      { resource, kind, brokerMessage },
    );
    this.resource = resource;
    this.brokerMessage = brokerMessage;
  }
}

/** The broker could not be reached (or refused the login) within the time allowed. */
export class BrokerUnavailableError extends EdakitError {
  constructor(message: string, context: ErrorContext = {}, cause?: unknown) {
    super(ErrorCodes.INVALID_STATE, message, { context, cause, retryable: true });
  }
}

/**
 * `maxQueued` publishes already wait to be written (no channel, the broker
 * blocking the connection, or the in-flight window full): this one was
 * refused at once and nothing was sent. Retryable: try again later, or slow
 * down. `EDAKIT_PUBLISH_FAILED`, `context.reason` is `'queue-full'`.
 */
export class PublishQueueFullError extends PublishError {
  constructor(context: ErrorContext & { readonly queued: number; readonly maxQueued: number }) {
    super(
      `${context.queued} publishes already wait for RabbitMQ (maxQueued ${context.maxQueued})${context.blocked ? ': the broker blocks the publishing connection (resource alarm)' : context.connected === false ? ': no connection to RabbitMQ' : ''}; nothing was sent`,
      { context: { reason: 'queue-full', ...context }, retryable: true },
    );
  }
}
