import type { ErrorCode } from './error-codes';

const marker = Symbol.for('edakit.error');

/** Context that tells an operator which event, where, and what failed. */
export interface ErrorContext {
  readonly eventType?: string;
  readonly eventId?: string;
  readonly channel?: string;
  readonly group?: string;
  readonly path?: string;
  readonly [key: string]: unknown;
}

export interface EdakitErrorOptions {
  readonly cause?: unknown;
  readonly retryable?: boolean;
  readonly context?: ErrorContext;
}

/**
 * Base of every error edakit throws. `code` is stable: it is never renamed or
 * reused, so users may branch on it. `retryable` tells the failure policy
 * whether another attempt can help.
 */
export class EdakitError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: EdakitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
    Object.defineProperty(this, marker, { value: true });
  }

  /**
   * Works across duplicated copies of the package (two versions in node_modules),
   * where `instanceof` would not.
   */
  static isInstance(value: unknown): value is EdakitError {
    return typeof value === 'object' && value !== null && marker in value;
  }
}
