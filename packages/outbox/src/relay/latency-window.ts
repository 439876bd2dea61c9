/** The last `size` latencies, for p50/p99 without unbounded memory. */
export class LatencyWindow {
  private readonly samples: number[] = [];
  private next = 0;

  constructor(private readonly size = 4096) {}

  add(ms: number): void {
    if (this.samples.length < this.size) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.size;
  }

  /** The given percentiles, from one sort of the window. */
  percentiles<const P extends readonly number[]>(...ps: P): { [K in keyof P]: number } {
    const sorted = [...this.samples].sort((a, b) => a - b);
    const at = (p: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
    return ps.map(at) as { [K in keyof P]: number };
  }
}
