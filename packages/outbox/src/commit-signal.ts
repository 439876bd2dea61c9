/**
 * "Something was committed to the outbox": lets a relay in the same process
 * publish right away instead of at its next poll. Only a hint: relays poll
 * anyway, so a lost signal delays an event, never loses it.
 */
export class CommitSignal {
  private readonly listeners = new Set<() => void>();

  emit(): void {
    for (const listener of this.listeners) listener();
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
