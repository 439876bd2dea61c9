import { FailureHeaders } from '../dead-letter/failure-headers';
import { EdakitError } from '../errors/edakit-error';
import { ErrorCodes } from '../errors/error-codes';
import { messageOf } from '../errors/message-of';
import type { SettleOutcome } from '../transport/settle-outcome';
import type { Delivery } from '../transport/transport';
import type { RetryPolicy } from './retry-policy';

/** A thrown value, normalised to data: handlers may throw anything. */
export interface FailureDescription {
  readonly message: string;
  readonly errorClass: string;
  readonly code?: string | undefined;
  readonly retryable: boolean;
}

const MAX_ERROR_MESSAGE_BYTES = 1000;

export function describeFailure(error: unknown): FailureDescription {
  if (EdakitError.isInstance(error)) {
    return {
      message: error.message,
      errorClass: error.name,
      code: error.code,
      retryable: error.retryable,
    };
  }
  if (error instanceof Error) {
    return { message: String(error.message), errorClass: error.name || 'Error', retryable: true };
  }
  return {
    message: messageOf(error),
    errorClass: error === null ? 'null' : typeof error,
    retryable: true,
  };
}

export interface FailureContext {
  readonly delivery: Delivery;
  readonly group: string;
  readonly handler?: string | undefined;
  /** Attempts made during this delivery. */
  readonly attempts: number;
  readonly policy: RetryPolicy;
  readonly now: Date;
}

/**
 * Core's decision after a failed delivery: a delayed retry while the policy
 * allows and the error is retryable, the dead-letter queue otherwise. The
 * history (attempts, retries, first failure) travels in the message headers.
 */
export function decideFailure(error: unknown, context: FailureContext): SettleOutcome {
  const failure = describeFailure(error);
  const previous = context.delivery.message.headers;
  const retries = readCount(previous[FailureHeaders.retries]);
  const now = context.now.toISOString();
  const headers: Record<string, string> = {
    ...previous,
    [FailureHeaders.attempts]: String(
      readCount(previous[FailureHeaders.attempts]) + context.attempts,
    ),
    [FailureHeaders.retries]: String(retries),
    [FailureHeaders.errorMessage]: truncate(failure.message),
    [FailureHeaders.errorClass]: failure.errorClass,
    [FailureHeaders.origin]: context.delivery.origin,
    [FailureHeaders.channel]: context.delivery.channel,
    [FailureHeaders.group]: context.group,
    [FailureHeaders.firstFailureAt]: previous[FailureHeaders.firstFailureAt] ?? now,
    [FailureHeaders.lastFailureAt]: now,
  };
  if (failure.code !== undefined) headers[FailureHeaders.errorCode] = failure.code;
  else delete headers[FailureHeaders.errorCode];
  if (context.handler !== undefined) headers[FailureHeaders.handler] = context.handler;
  else delete headers[FailureHeaders.handler];

  if (failure.retryable && retries < context.policy.maxRetries) {
    headers[FailureHeaders.retries] = String(retries + 1);
    return { type: 'retry', delayMs: context.policy.delayFor(retries + 1), headers };
  }
  headers[FailureHeaders.deadLetterReason] = failure.retryable
    ? ErrorCodes.RETRIES_EXHAUSTED
    : (failure.code ?? ErrorCodes.NON_RETRYABLE);
  headers[FailureHeaders.deadLetteredAt] = now;
  return { type: 'deadLetter', headers };
}

function readCount(value: string | undefined): number {
  const count = Number(value);
  return Number.isSafeInteger(count) && count >= 0 ? count : 0;
}

/** Cut by bytes, not characters: header size is counted in bytes. */
function truncate(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.byteLength <= MAX_ERROR_MESSAGE_BYTES) return text;
  // Dropping a split multi-byte character at the cut leaves valid text.
  return `${bytes
    .subarray(0, MAX_ERROR_MESSAGE_BYTES)
    .toString('utf8')
    .replace(/\uFFFD$/, '')}…`;
}
