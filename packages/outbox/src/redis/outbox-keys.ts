export const DEFAULT_OUTBOX_PREFIX = 'edakit:outbox:';

/** The stream's consumer group every relay reads through. */
export const RELAY_GROUP = 'relay';

/** Where one outbox keeps its state; every name starts with the prefix. */
export interface OutboxKeys {
  /** STREAM of unpublished entries, in commit order (an entry is deleted once published). */
  readonly log: string;
  /** HASH key → last sequence given to the key. */
  readonly sequences: string;
  /** Prefix of each key's LIST of unpublished stream ids, oldest first. */
  readonly queuePrefix: string;
  /** ZSET key → when the key may be claimed next (now, its retry time, or the end of its lease). */
  readonly ready: string;
  /** HASH key → token of the claim that holds it. */
  readonly leases: string;
  /** HASH key → JSON of its failing oldest row: stream id, envelope id, attempts, error, retry time. */
  readonly failures: string;
  /** ZSET key → creation time of its failing row: the stuck list, oldest first. */
  readonly stuck: string;
  /** ZSET key → when its oldest row died. Dead keys are not in `ready`. */
  readonly dead: string;
  /** HASH envelope id → key, for the dead rows a replay may name. */
  readonly deadIds: string;
}

export function outboxKeys(prefix: string): OutboxKeys {
  return {
    log: `${prefix}log`,
    sequences: `${prefix}seq`,
    queuePrefix: `${prefix}q:`,
    ready: `${prefix}ready`,
    leases: `${prefix}leases`,
    failures: `${prefix}failures`,
    stuck: `${prefix}stuck`,
    dead: `${prefix}dead`,
    deadIds: `${prefix}dead-ids`,
  };
}
