/** Where the saga runtime reads the time; tests swap in a `VirtualClock`. */
export interface Clock {
  now(): number;
  /** Called when time jumps (virtual clocks), so due timeouts fire at once. */
  onAdvance?(listener: () => void): () => void;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that moves only when told: `advance(ms)` jumps forward and makes the
 * runtime fire every timeout that became due, without waiting.
 */
export class VirtualClock implements Clock {
  private current: number;
  private readonly listeners = new Set<() => void>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
    for (const listener of this.listeners) listener();
  }

  onAdvance(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
