/**
 * One event waiting in an outbox: the encoded message exactly as the transport
 * will publish it, plus where it sits in its aggregate's order.
 */
export interface OutboxRecord {
  /** The envelope id: stable across every re-publish of this row. */
  readonly id: string;
  /** The aggregate (CloudEvents `partitionkey`): order holds per key. */
  readonly key: string;
  /** Position in the key's order (1, 2, 3...): the relay publishes a key's rows in this order. */
  readonly sequence: number;
  /** True when the event has no partition key: `key` is then its id and the message goes out without one. */
  readonly unkeyed?: boolean;
  readonly channel: string;
  readonly type: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  /** Failed publish attempts so far. */
  readonly attempts: number;
  readonly createdAt: Date;
}

/** A row that stopped its key: backing off, or dead and waiting for a replay. */
export interface StuckRecord {
  readonly record: OutboxRecord;
  readonly lastError: string;
  /** When it is retried; undefined once dead. */
  readonly retryAt: Date | undefined;
}
