/**
 * Each broker of a cluster learns of a new topic on its own: for a moment one
 * may answer UNKNOWN_TOPIC_OR_PARTITION (or LEADER_NOT_AVAILABLE) for a topic
 * another broker just created. kafkajs retries that in send(), not in
 * createTopics' wait for leaders nor in consumer.subscribe().
 */
export function isMetadataLag(error: unknown): boolean {
  for (
    let current = error as { type?: unknown; cause?: unknown } | undefined, depth = 0;
    current && depth < 5;
    depth++
  ) {
    if (current.type === 'UNKNOWN_TOPIC_OR_PARTITION' || current.type === 'LEADER_NOT_AVAILABLE')
      return true;
    current = current.cause as typeof current;
  }
  return false;
}

/** Runs `work`, again every `intervalMs` while it fails on metadata lag, at most `attempts` times. */
export async function retryWhileMetadataLags<T>(
  work: () => Promise<T>,
  attempts = 50,
  intervalMs = 100,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isMetadataLag(error) || attempt >= attempts) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
