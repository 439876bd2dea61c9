/**
 * Headers edakit writes on retried and dead-lettered messages. Transports copy
 * them verbatim. Never `x-` (broker-owned) and never `x-death`.
 */
export const FailureHeaders = {
  /** Handler attempts so far, immediate ones included. */
  attempts: 'edakit-attempts',
  /** Delayed retries so far. */
  retries: 'edakit-retries',
  errorMessage: 'edakit-error-message',
  errorClass: 'edakit-error-class',
  /** Error code (EDAKIT_*) when the error had one. */
  errorCode: 'edakit-error-code',
  /** Topic or queue the message failed on. */
  origin: 'edakit-origin',
  /** Channel the message failed on (for redrive). */
  channel: 'edakit-channel',
  group: 'edakit-group',
  /** Handler that failed, when one did. */
  handler: 'edakit-handler',
  firstFailureAt: 'edakit-first-failure-at',
  lastFailureAt: 'edakit-last-failure-at',
  /** Why it was dead-lettered: an EDAKIT_* code. */
  deadLetterReason: 'edakit-dead-letter-reason',
  deadLetteredAt: 'edakit-dead-lettered-at',
  /** JSON list of the group's handlers that already succeeded: retries and redrives skip them. */
  handledBy: 'edakit-handled-by',
  /** How many times the message was redriven from the dead-letter queue. */
  redrives: 'edakit-redrives',
} as const;

/** Kept across a redrive: what already succeeded and the history of the failure. */
const keptOnRedrive: ReadonlySet<string> = new Set([
  FailureHeaders.handledBy,
  FailureHeaders.firstFailureAt,
  FailureHeaders.redrives,
]);
const failureHeaderNames: ReadonlySet<string> = new Set(Object.values(FailureHeaders));

/**
 * Headers for sending a dead letter back: the original headers with a fresh
 * attempt budget, but keeping the first failure time, the handlers that already
 * succeeded, and a redrive count, so a message redriven in a loop stays visible.
 */
export function headersForRedrive(
  headers: Readonly<Record<string, string>>,
): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!failureHeaderNames.has(name) || keptOnRedrive.has(name)) clean[name] = value;
  }
  clean[FailureHeaders.redrives] = String((Number(headers[FailureHeaders.redrives]) || 0) + 1);
  return clean;
}

/** True for headers edakit writes on failure (they never count against size limits). */
export function isFailureHeader(name: string): boolean {
  return failureHeaderNames.has(name);
}
