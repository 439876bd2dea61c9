import { release, type SettleOutcome } from '../transport/settle-outcome';

/** One delivery being handled: settled once, by its work or by the stop deadline. */
class Entry {
  done = false;
  constructor(readonly resolve: (outcome: SettleOutcome) => void) {}
}

/**
 * The deliveries a subscription is handling. On stop, each gets until the
 * deadline; then its signal aborts and its outcome becomes `release`, so the
 * transport can finish stopping without acknowledging unfinished work.
 */
export class InFlightDeliveries {
  private readonly entries = new Set<Entry>();
  private stopping = false;
  // One signal for every delivery: they are all aborted together, at the stop
  // deadline, and an AbortController per delivery was a measurable cost.
  private readonly stop = new AbortController();

  get size(): number {
    return this.entries.size;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Runs `work(input, signal)` as a tracked delivery; resolves with its outcome
   * or `release`. The input is passed through so callers need no closure per delivery.
   */
  run<T>(
    work: (input: T, signal: AbortSignal) => Promise<SettleOutcome>,
    input: T,
  ): Promise<SettleOutcome> {
    if (this.stopping) return Promise.resolve(release);
    return new Promise<SettleOutcome>((resolve) => {
      const entry = new Entry(resolve);
      this.entries.add(entry);
      work(input, this.stop.signal).then(
        (outcome) => this.settle(entry, outcome),
        () => this.settle(entry, release),
      );
    });
  }

  private settle(entry: Entry, outcome: SettleOutcome): void {
    if (entry.done) return;
    entry.done = true;
    this.entries.delete(entry);
    entry.resolve(outcome);
  }

  /** Refuses new work now; releases what is still running after `deadlineMs`. */
  beginStop(deadlineMs: number): () => void {
    this.stopping = true;
    const timer = setTimeout(() => this.releaseAll(), deadlineMs);
    return () => clearTimeout(timer);
  }

  private releaseAll(): void {
    this.stop.abort(new Error('consumer stopped before the handler finished'));
    for (const entry of [...this.entries]) this.settle(entry, release);
  }
}
