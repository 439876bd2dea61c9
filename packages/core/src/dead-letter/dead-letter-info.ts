import { FailureHeaders } from './failure-headers';

/** Why a message is in the dead-letter queue, read back from its headers. */
export interface DeadLetterInfo {
  readonly reason: string;
  readonly errorMessage: string;
  readonly errorClass: string;
  readonly errorCode?: string | undefined;
  readonly attempts: number;
  readonly retries: number;
  readonly origin: string;
  readonly channel?: string | undefined;
  readonly group: string;
  readonly handler?: string | undefined;
  readonly firstFailureAt: string;
  readonly lastFailureAt: string;
  readonly deadLetteredAt: string;
  /** Times this message was redriven before; more than a few means a redrive loop. */
  readonly redrives: number;
}

export function readDeadLetterInfo(headers: Readonly<Record<string, string>>): DeadLetterInfo {
  const text = (name: string): string => headers[name] ?? '';
  return {
    reason: text(FailureHeaders.deadLetterReason),
    errorMessage: text(FailureHeaders.errorMessage),
    errorClass: text(FailureHeaders.errorClass),
    errorCode: headers[FailureHeaders.errorCode],
    attempts: Number(headers[FailureHeaders.attempts] ?? 0),
    retries: Number(headers[FailureHeaders.retries] ?? 0),
    origin: text(FailureHeaders.origin),
    channel: headers[FailureHeaders.channel],
    group: text(FailureHeaders.group),
    handler: headers[FailureHeaders.handler],
    firstFailureAt: text(FailureHeaders.firstFailureAt),
    lastFailureAt: text(FailureHeaders.lastFailureAt),
    deadLetteredAt: text(FailureHeaders.deadLetteredAt),
    redrives: Number(headers[FailureHeaders.redrives] ?? 0) || 0,
  };
}
