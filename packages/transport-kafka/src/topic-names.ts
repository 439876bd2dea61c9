/**
 * Topic names. The main topic is the channel (with the prefix); retry topics are
 * per group and tier, so a retry is seen by the failing group only and a long
 * tier never delays a short one; the dead-letter topic is per channel, shared
 * by groups (each dead letter names its group in a header).
 */
export class TopicNames {
  constructor(private readonly prefix: string = '') {}

  main(channel: string): string {
    return `${this.prefix}${channel}`;
  }

  retry(channel: string, group: string, tierMs: number): string {
    return `${this.prefix}${channel}.retry.${group}.${tierMs}ms`;
  }

  deadLetter(channel: string): string {
    return `${this.prefix}${channel}.dlq`;
  }

  /** The channel a main, retry or dead-letter topic belongs to. */
  channelOf(topic: string): string {
    const bare = topic.startsWith(this.prefix) ? topic.slice(this.prefix.length) : topic;
    const retry = bare.indexOf('.retry.');
    if (retry >= 0) return bare.slice(0, retry);
    return bare.endsWith('.dlq') ? bare.slice(0, -'.dlq'.length) : bare;
  }
}

/** The smallest tier that holds `delayMs`, or the largest tier. */
export function tierFor(delayMs: number, tiers: readonly number[]): number {
  for (const tier of tiers) if (tier >= delayMs) return tier;
  return tiers[tiers.length - 1] as number;
}
