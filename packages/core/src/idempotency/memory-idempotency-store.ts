import { randomUUID } from 'node:crypto';
import type { AcquireResult, IdempotencyStore } from './idempotency-store';

interface Entry {
  state: 'in-flight' | 'done';
  token: string;
  expiresAt: number;
}

export interface MemoryIdempotencyStoreOptions {
  /** Time source, for tests. */
  readonly now?: () => number;
}

/** In-process store for the embedded mode and tests. Expired entries are swept lazily. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private sweeps = 0;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async acquire(key: string, leaseMs: number): Promise<AcquireResult> {
    this.maybeSweep();
    const entry = this.live(key);
    if (entry) return { status: entry.state };
    const token = randomUUID();
    this.entries.set(key, { state: 'in-flight', token, expiresAt: this.now() + leaseMs });
    return { status: 'acquired', token };
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    const entry = this.held(key, token);
    if (!entry) return false;
    entry.expiresAt = this.now() + leaseMs;
    return true;
  }

  async markDone(key: string, token: string, windowMs: number): Promise<boolean> {
    const entry = this.held(key, token);
    if (!entry) return false;
    entry.state = 'done';
    entry.expiresAt = this.now() + windowMs;
    return true;
  }

  async release(key: string, token: string): Promise<boolean> {
    if (!this.held(key, token)) return false;
    this.entries.delete(key);
    return true;
  }

  /** Entries currently held or done: for tests and health. */
  get size(): number {
    return this.entries.size;
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private held(key: string, token: string): Entry | undefined {
    const entry = this.live(key);
    return entry?.state === 'in-flight' && entry.token === token ? entry : undefined;
  }

  private maybeSweep(): void {
    if (++this.sweeps % 1024 !== 0) return;
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
