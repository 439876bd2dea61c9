import { hasKafkaErrorType } from './kafka-error-type';

const METADATA_LAG_ERRORS: ReadonlySet<string> = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
]);

/**
 * Each broker of a cluster learns of a new topic on its own: for a moment one
 * may answer UNKNOWN_TOPIC_OR_PARTITION (or LEADER_NOT_AVAILABLE) for a topic
 * another broker just created. kafkajs retries that in send(), not in
 * createTopics' wait for leaders nor (UNKNOWN_TOPIC_OR_PARTITION) in
 * consumer.subscribe().
 */
export function isMetadataLag(error: unknown): boolean {
  return hasKafkaErrorType(error, METADATA_LAG_ERRORS);
}

export interface MetadataLagRetry {
  /** Stop retrying once this much time has passed since the first attempt. Default 5 s. */
  readonly deadlineMs?: number;
  readonly intervalMs?: number;
  /** Stop retrying as soon as this is false (the consumer is stopping). */
  readonly keepGoing?: () => boolean;
}

/**
 * Runs `work`, again every `intervalMs` while it fails on metadata lag, until
 * the deadline or `keepGoing()` says stop; then the last error is thrown. One
 * attempt can outlast the deadline: kafkajs retries LEADER_NOT_AVAILABLE
 * inside a single metadata refresh.
 */
export async function retryWhileMetadataLags<T>(
  work: () => Promise<T>,
  { deadlineMs = 5_000, intervalMs = 100, keepGoing = () => true }: MetadataLagRetry = {},
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (!isMetadataLag(error) || !keepGoing() || Date.now() + intervalMs > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
