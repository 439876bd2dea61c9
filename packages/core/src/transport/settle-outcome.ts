/**
 * What a transport does with a delivery once core has handled it. Core decides;
 * the transport maps each outcome onto its broker (see docs/architecture.md).
 */
export type SettleOutcome =
  /** Done: acknowledge / commit. */
  | { readonly type: 'ack' }
  /**
   * Deliver again to this group only, after `delayMs`, with `headers` replacing
   * the message's headers (they carry the attempt count core reads back).
   */
  | {
      readonly type: 'retry';
      readonly delayMs: number;
      readonly headers: Readonly<Record<string, string>>;
    }
  /**
   * Move to the dead-letter queue: the original key and body, with `headers`
   * (original headers plus the failure metadata) replacing the message's.
   */
  | { readonly type: 'deadLetter'; readonly headers: Readonly<Record<string, string>> }
  /**
   * Not handled (the consumer is stopping): do not acknowledge; the broker
   * redelivers it, to this consumer or another member of the group.
   */
  | { readonly type: 'release' };

export const ack: SettleOutcome = Object.freeze({ type: 'ack' });
export const release: SettleOutcome = Object.freeze({ type: 'release' });
