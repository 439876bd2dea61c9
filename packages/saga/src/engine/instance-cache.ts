import type { SagaInstance } from './saga-instance';

/**
 * The instances a runtime last stored, so the next transition of a running
 * saga can skip its load. Only a hint: a write from a stale entry (another
 * replica wrote since) fails its compare-and-set, and the runtime drops the
 * entry and loads. Bounded: the least recently stored entries go first.
 */
export class InstanceCache {
  private readonly entries = new Map<string, SagaInstance>();

  constructor(private readonly capacity: number) {}

  get(key: string): SagaInstance | undefined {
    return this.entries.get(key);
  }

  /** Keeps a running instance; a finished one is dropped (no event moves it any more). */
  keep(key: string, instance: SagaInstance): void {
    this.entries.delete(key);
    if (instance.status !== 'running' || this.capacity === 0) return;
    this.entries.set(key, instance);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  drop(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
