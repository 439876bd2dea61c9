/** How deep into `cause` chains to look: kafkajs nests its errors a few levels (retries wrap them). */
const MAX_CAUSE_DEPTH = 5;

/**
 * True when the error, or one of its causes, is a kafkajs error whose `type`
 * (the Kafka protocol error name) is in `types`. Bounded, so a cause cycle ends.
 */
export function hasKafkaErrorType(error: unknown, types: ReadonlySet<string>): boolean {
  let current = error as { type?: unknown; cause?: unknown } | null | undefined;
  for (let depth = 0; current && depth < MAX_CAUSE_DEPTH; depth++) {
    if (typeof current.type === 'string' && types.has(current.type)) return true;
    current = current.cause as typeof current;
  }
  return false;
}
