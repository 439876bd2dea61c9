import { Fifo } from './fifo';

/**
 * A queue that hands out items in order per key while letting different keys
 * run in parallel: `take()` never returns an item whose key has one in flight.
 * Items without a key are independent of each other. Transports use it to run
 * `concurrency` handlers at once without breaking per-key order.
 */
export class KeyedQueue<T> {
  /** Keys with an item in `ready` (QUEUED) or in flight (BUSY); free keys are absent. */
  private readonly state = new Map<string, typeof QUEUED | typeof BUSY>();
  /** Items behind their key's queued or in-flight one, per key. */
  private readonly behind = new Map<string, Fifo<T>>();
  /** The next item of each free key, in the order the keys became ready. */
  private readonly ready = new Fifo<Taken<T>>();
  private busy = 0;
  private queued = 0;
  private anonymous = 0;

  /** Items waiting, not counting those in flight. */
  get size(): number {
    return this.queued;
  }

  /** Keys with an item in flight. */
  get inFlight(): number {
    return this.busy;
  }

  push(key: string | undefined, item: T): void {
    const queueKey = key === undefined ? `\u0000${this.anonymous++}` : `k${key}`;
    this.queued++;
    if (this.state.get(queueKey) === undefined) {
      // The common case, a key with nothing queued or running: straight to ready,
      // without a per-key queue.
      this.state.set(queueKey, QUEUED);
      this.ready.push({ key: queueKey, item });
      return;
    }
    let queue = this.behind.get(queueKey);
    if (!queue) {
      queue = new Fifo();
      this.behind.set(queueKey, queue);
    }
    queue.push(item);
  }

  /** The next item whose key is free; its key is busy until `done` or `putBack`. */
  take(): { readonly key: string; readonly item: T } | undefined {
    const taken = this.ready.shift();
    if (taken === undefined) return undefined;
    this.queued--;
    this.state.set(taken.key, BUSY);
    this.busy++;
    return taken;
  }

  /** The item taken under `key` is finished; the key's next item becomes ready. */
  done(key: string): void {
    if (this.state.get(key) !== BUSY) return;
    this.busy--;
    const queue = this.behind.get(key);
    if (queue === undefined) {
      this.state.delete(key);
      return;
    }
    const item = queue.shift() as T;
    if (queue.length === 0) this.behind.delete(key);
    this.state.set(key, QUEUED);
    this.ready.push({ key, item });
  }

  /** The item taken under `key` was not handled: it goes back first in line. */
  putBack(key: string, item: T): void {
    if (this.state.get(key) === BUSY) this.busy--;
    this.state.set(key, QUEUED);
    this.queued++;
    this.ready.unshift({ key, item });
  }

  /** Every waiting item, for inspection. */
  *waiting(): IterableIterator<T> {
    for (const taken of this.ready) yield taken.item;
    for (const queue of this.behind.values()) yield* queue;
  }
}

const QUEUED = 1;
const BUSY = 2;

interface Taken<T> {
  readonly key: string;
  readonly item: T;
}
