import { EdakitError, type ErrorContext } from './edakit-error';
import { ErrorCodes } from './error-codes';
import { messageOf } from './message-of';

/** One schema problem: where, what, and zod's own issue code. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
  readonly code: string;
}

/** Bytes that cannot be decoded into an event. Never retryable. */
export class DecodeError extends EdakitError {
  constructor(message: string, context: ErrorContext = {}, cause?: unknown) {
    super(ErrorCodes.DECODE_FAILED, message, { context, cause });
  }
}

export class MissingAttributeError extends EdakitError {
  readonly attribute: string;
  constructor(attribute: string, context: ErrorContext = {}) {
    super(
      ErrorCodes.MISSING_ATTRIBUTE,
      `CloudEvents attribute "${attribute}" is missing or malformed${describe(context)}`,
      { context: { ...context, path: attribute } },
    );
    this.attribute = attribute;
  }
}

export class UnknownEventError extends EdakitError {
  constructor(eventType: string, context: ErrorContext = {}) {
    super(ErrorCodes.UNKNOWN_EVENT, `Unknown event type "${eventType}"${describe(context)}`, {
      context: { ...context, eventType },
    });
  }
}

export class UnsupportedVersionError extends EdakitError {
  readonly version: number;
  readonly supported: number;
  constructor(version: number, supported: number, context: ErrorContext = {}) {
    super(
      ErrorCodes.UNSUPPORTED_VERSION,
      `Version ${version} of "${context.eventType ?? '?'}" is not supported (this consumer reads up to v${supported})${describe(context)}`,
      { context: { ...context, path: 'dataversion' } },
    );
    this.version = version;
    this.supported = supported;
  }
}

export class ValidationError extends EdakitError {
  readonly issues: readonly ValidationIssue[];
  constructor(issues: readonly ValidationIssue[], context: ErrorContext = {}) {
    const first = issues[0];
    const where = first ? ` at "${first.path}": ${first.message}` : '';
    super(
      ErrorCodes.VALIDATION_FAILED,
      `Event "${context.eventType ?? '?'}" failed validation${where}${describe(context)}`,
      { context: { ...context, path: first?.path ?? '' } },
    );
    this.issues = issues;
  }
}

export class PayloadTooLargeError extends EdakitError {
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number, context: ErrorContext = {}) {
    super(
      ErrorCodes.PAYLOAD_TOO_LARGE,
      `Message of ${size} bytes exceeds the limit of ${limit} bytes${describe(context)}`,
      { context },
    );
    this.size = size;
    this.limit = limit;
  }
}

export class UpcastError extends EdakitError {
  constructor(fromVersion: number, context: ErrorContext, cause: unknown) {
    super(
      ErrorCodes.UPCAST_FAILED,
      `Upcasting "${context.eventType ?? '?'}" from v${fromVersion} failed${describe(context)}: ${messageOf(cause)}`,
      { context, cause },
    );
  }
}

function describe(context: ErrorContext): string {
  const parts: string[] = [];
  if (context.eventId) parts.push(`id ${context.eventId}`);
  if (context.channel) parts.push(`channel ${context.channel}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}
