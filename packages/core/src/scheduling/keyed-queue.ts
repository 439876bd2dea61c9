import { Fifo } from './fifo';

/**
 * A queue that hands out items in order per key while letting different keys
 * run in parallel: `take()` never returns an item whose key has one in flight.
 * Items without a key are independent of each other. Transports use it to run
 * `concurrency` handlers at once without breaking per-key order.
 */
export class KeyedQueue<T> {
  private readonly queues = new Map<string, Fifo<T>>();
  /** Keys with queued items and nothing in flight, in arrival order. */
  private readonly ready = new Fifo<string>();
  private readonly busy = new Set<string>();
  private queued = 0;
  private anonymous = 0;

  /** Items waiting, not counting those in flight. */
  get size(): number {
    return this.queued;
  }

  /** Keys with an item in flight. */
  get inFlight(): number {
    return this.busy.size;
  }

  push(key: string | undefined, item: T): void {
    const queueKey = key === undefined ? `\u0000${this.anonymous++}` : `k${key}`;
    let queue = this.queues.get(queueKey);
    if (!queue) {
      queue = new Fifo();
      this.queues.set(queueKey, queue);
    }
    queue.push(item);
    this.queued++;
    if (queue.length === 1 && !this.busy.has(queueKey)) this.ready.push(queueKey);
  }

  /** The next item whose key is free; its key is busy until `done` or `putBack`. */
  take(): { readonly key: string; readonly item: T } | undefined {
    const key = this.ready.shift();
    if (key === undefined) return undefined;
    const queue = this.queues.get(key) as Fifo<T>;
    const item = queue.shift() as T;
    this.queued--;
    this.busy.add(key);
    return { key, item };
  }

  /** The item taken under `key` is finished; the key's next item becomes ready. */
  done(key: string): void {
    if (!this.busy.delete(key)) return;
    const queue = this.queues.get(key);
    if (queue && queue.length > 0) this.ready.push(key);
    else this.queues.delete(key);
  }

  /** The item taken under `key` was not handled: it goes back first in line. */
  putBack(key: string, item: T): void {
    let queue = this.queues.get(key);
    if (!queue) {
      queue = new Fifo();
      this.queues.set(key, queue);
    }
    queue.unshift(item);
    this.queued++;
    this.busy.delete(key);
    this.ready.unshift(key);
  }

  /** Every waiting item, for inspection. */
  *waiting(): IterableIterator<T> {
    for (const queue of this.queues.values()) yield* queue;
  }
}
