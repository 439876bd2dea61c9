/** Counts free handler slots of a subscription, shared by all its partitions. */
export class Semaphore {
  private waiters: Array<() => void> = [];

  constructor(private free: number) {}

  /** Takes a free slot now if there is one: the hot path, without a promise. */
  tryAcquire(): boolean {
    if (this.free > 0 && this.waiters.length === 0) {
      this.free--;
      return true;
    }
    return false;
  }

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

/** Sleeps up to `ms`, checking `keepGoing` every `stepMs`; resolves false if it said stop. */
export async function sleepWhile(
  ms: number,
  keepGoing: () => boolean,
  stepMs = 200,
): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!keepGoing()) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(stepMs, until - Date.now())));
  }
  return keepGoing();
}
