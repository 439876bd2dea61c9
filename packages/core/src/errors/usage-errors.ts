import { EdakitError, type ErrorContext } from './edakit-error';
import { ErrorCodes } from './error-codes';

export class InvalidContractError extends EdakitError {
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCodes.INVALID_CONTRACT, message, { context });
  }
}

export class DuplicateContractError extends EdakitError {
  constructor(eventType: string, version: number) {
    super(
      ErrorCodes.DUPLICATE_CONTRACT,
      `Two different contracts define "${eventType}" v${version}; a type and version must name one schema`,
      { context: { eventType, version } },
    );
  }
}

export class InvalidCatalogError extends EdakitError {
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCodes.INVALID_CATALOG, message, { context });
  }
}

export class InvalidOptionsError extends EdakitError {
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCodes.INVALID_OPTIONS, message, { context });
  }
}

export class InvalidStateError extends EdakitError {
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCodes.INVALID_STATE, message, { context });
  }
}
