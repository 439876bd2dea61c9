import type { WireMessage } from '../codec/wire-message';
import type { DeadLetterInfo } from '../dead-letter/dead-letter-info';

/** A message in a dead-letter queue, with why it is there. */
export interface DeadLetter {
  /** Transport-specific handle, stable while the message stays in the DLQ. */
  readonly id: string;
  readonly message: WireMessage;
  readonly info: DeadLetterInfo;
}

export interface DeadLetterQuery {
  readonly group: string;
  /** Restrict to one channel (Kafka topic); all of the group's otherwise. */
  readonly channel?: string;
  readonly limit?: number;
}

export interface RedriveRequest extends DeadLetterQuery {
  /** Dead letters to send back; all matching the query when absent. */
  readonly ids?: readonly string[];
}

/**
 * Optional ability of a transport: inspect the dead-letter queue and send
 * messages back to where they failed, keeping their event id.
 */
export interface DeadLetterAdmin {
  listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]>;
  /** Resolves to how many messages went back. */
  redriveDeadLetters(request: RedriveRequest): Promise<number>;
}

export function hasDeadLetterAdmin<T extends object>(
  transport: T,
): transport is T & DeadLetterAdmin {
  const candidate = transport as Partial<DeadLetterAdmin>;
  return (
    typeof candidate.listDeadLetters === 'function' &&
    typeof candidate.redriveDeadLetters === 'function'
  );
}
