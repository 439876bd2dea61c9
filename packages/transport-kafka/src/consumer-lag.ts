import type { Admin } from 'kafkajs';

/** Lag of one partition: messages after the group's committed offset. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly committed: string;
  readonly end: string;
  readonly lag: number;
}

/** Committed offsets vs end offsets, per partition of the group's topics. */
export async function consumerLag(
  admin: Admin,
  group: string,
  topics: readonly string[],
): Promise<PartitionLag[]> {
  const committed = await admin.fetchOffsets({ groupId: group, topics: [...topics] });
  const lags: PartitionLag[] = [];
  for (const { topic, partitions } of committed) {
    const ends = await admin.fetchTopicOffsets(topic);
    for (const end of ends) {
      const offset =
        partitions.find((partition) => partition.partition === end.partition)?.offset ?? '-1';
      // No commit yet: everything from the log start is still to be consumed.
      const from = BigInt(offset) < 0n ? BigInt(end.low) : BigInt(offset);
      lags.push({
        topic,
        partition: end.partition,
        committed: offset,
        end: end.high,
        lag: Number(BigInt(end.high) - from),
      });
    }
  }
  return lags;
}
