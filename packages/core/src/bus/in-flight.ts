import { release, type SettleOutcome } from '../transport/settle-outcome';

interface Entry {
  readonly settle: (outcome: SettleOutcome) => void;
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

  /** Runs `work` as a tracked delivery; resolves with its outcome or `release`. */
  run(work: (signal: AbortSignal) => Promise<SettleOutcome>): Promise<SettleOutcome> {
    if (this.stopping) return Promise.resolve(release);
    return new Promise<SettleOutcome>((resolve) => {
      let done = false;
      const entry: Entry = {
        settle: (outcome) => {
          if (done) return;
          done = true;
          this.entries.delete(entry);
          resolve(outcome);
        },
      };
      this.entries.add(entry);
      work(this.stop.signal).then(entry.settle, () => entry.settle(release));
    });
  }

  /** Refuses new work now; releases what is still running after `deadlineMs`. */
  beginStop(deadlineMs: number): () => void {
    this.stopping = true;
    const timer = setTimeout(() => this.releaseAll(), deadlineMs);
    return () => clearTimeout(timer);
  }

  private releaseAll(): void {
    this.stop.abort(new Error('consumer stopped before the handler finished'));
    for (const entry of [...this.entries]) entry.settle(release);
  }
}
