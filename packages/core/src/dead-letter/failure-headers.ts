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
} as const;

const failureHeaderNames: ReadonlySet<string> = new Set(Object.values(FailureHeaders));

/** The original headers, without edakit's failure metadata: for redrive. */
export function withoutFailureHeaders(
  headers: Readonly<Record<string, string>>,
): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!failureHeaderNames.has(name)) clean[name] = value;
  }
  return clean;
}
