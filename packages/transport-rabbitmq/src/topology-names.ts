/**
 * Names of everything the transport declares. One exchange for all events
 * (routing key = event type); per group a queue, its retry queues (one per
 * delay tier, dead-lettering back to that queue only) and its dead-letter queue.
 */
export class TopologyNames {
  constructor(
    readonly exchange: string,
    readonly alternateExchange: string,
    private readonly queuePrefix: string = '',
  ) {}

  /** The fanout alternate exchange's queue has the exchange's name. */
  get unroutableQueue(): string {
    return this.alternateExchange;
  }

  queue(group: string): string {
    return `${this.queuePrefix}${group}`;
  }

  retry(group: string, tierMs: number): string {
    return `${this.queue(group)}.retry.${tierMs}ms`;
  }

  deadLetter(group: string): string {
    return `${this.queue(group)}.dlq`;
  }

  /** Every queue of a group: main, retry tiers, dead letters. */
  queuesOf(group: string, tiersMs: readonly number[]): string[] {
    return [
      this.queue(group),
      ...tiersMs.map((tier) => this.retry(group, tier)),
      this.deadLetter(group),
    ];
  }
}

/** The smallest tier that holds `delayMs`, or the largest tier. `tiers` is sorted ascending. */
export function tierFor(delayMs: number, tiers: readonly number[]): number {
  for (const tier of tiers) if (tier >= delayMs) return tier;
  return tiers[tiers.length - 1] as number;
}

/**
 * Per-message expiration inside a tier: a delay shorter than the tier expires
 * on time when nothing longer is ahead of it, and never later than the tier.
 * Undefined when the queue's TTL alone is right.
 */
export function expirationFor(delayMs: number, tierMs: number): string | undefined {
  const delay = Math.max(0, Math.ceil(delayMs));
  return delay < tierMs ? String(delay) : undefined;
}
