import { EdakitError, ErrorCodes, type ErrorContext } from '@edakit/core';

export class SagaConflictError extends EdakitError {
  constructor(context: ErrorContext) {
    super(
      ErrorCodes.SAGA_CONFLICT,
      `Saga "${String(context.saga)}" instance "${String(context.sagaId)}" kept changing during ${String(context.attempts)} attempts to apply ${String(context.eventType)}`,
      { context, retryable: true },
    );
  }
}

export class UnknownSagaVersionError extends EdakitError {
  constructor(context: ErrorContext) {
    super(
      ErrorCodes.UNKNOWN_SAGA_VERSION,
      `Saga "${String(context.saga)}" instance "${String(context.sagaId)}" was created by definition version ${String(context.definitionVersion)}, which is not registered (registered: ${String(context.registered)})`,
      { context },
    );
  }
}

export class UnexpectedSagaEventError extends EdakitError {
  constructor(context: ErrorContext, retryable: boolean) {
    super(
      ErrorCodes.UNEXPECTED_SAGA_EVENT,
      `Saga "${String(context.saga)}" instance "${String(context.sagaId)}" did not expect ${String(context.eventType)}: ${String(context.reason)}`,
      { context, retryable },
    );
  }
}
