import type { PreparedEvent } from '@edakit/core';
import { MemoryOutbox } from '@edakit/outbox';
import type { SagaInstance } from '../engine/saga-instance';
import type { DueTimeout, InstanceCounts, SagaQuery, SagaStore } from '../store/saga-store';

const keyOf = (saga: string, id: string) => `${saga}\u0000${id}`;

/**
 * Sagas in memory: the embedded default and unit tests. Same rules as the
 * durable stores (create-if-absent, compare-and-set, leased timers), nothing
 * survives the process.
 */
export class MemorySagaStore implements SagaStore {
  readonly outbox: MemoryOutbox;
  private readonly instances = new Map<string, SagaInstance>();
  /** Timer per instance: due time (pushed forward when claimed) and token. */
  private readonly timers = new Map<
    string,
    { dueAt: number; token: string; saga: string; id: string }
  >();

  constructor(now: () => number = Date.now) {
    this.outbox = new MemoryOutbox(now);
  }

  get commits() {
    return this.outbox.commits;
  }

  async create(instance: SagaInstance, sends: readonly PreparedEvent[]): Promise<boolean> {
    const key = keyOf(instance.saga, instance.id);
    if (this.instances.has(key)) return false;
    this.write(key, instance, sends);
    return true;
  }

  async load(saga: string, id: string): Promise<SagaInstance | undefined> {
    return this.instances.get(keyOf(saga, id));
  }

  async update(instance: SagaInstance, sends: readonly PreparedEvent[]): Promise<boolean> {
    const key = keyOf(instance.saga, instance.id);
    if (this.instances.get(key)?.version !== instance.version - 1) return false;
    this.write(key, instance, sends);
    return true;
  }

  async claimDueTimeouts(now: number, limit: number, leaseMs: number): Promise<DueTimeout[]> {
    const due: DueTimeout[] = [];
    for (const timer of this.timers.values()) {
      if (due.length >= limit) break;
      if (timer.dueAt > now) continue;
      timer.dueAt = now + leaseMs;
      due.push({ saga: timer.saga, id: timer.id, token: timer.token });
    }
    return due;
  }

  async find({ saga, status, limit = 100 }: SagaQuery): Promise<SagaInstance[]> {
    const found: SagaInstance[] = [];
    for (const instance of this.instances.values()) {
      if (found.length >= limit) break;
      if (instance.saga === saga && (status === undefined || instance.status === status))
        found.push(instance);
    }
    return found;
  }

  async countInstances(saga: string): Promise<InstanceCounts> {
    const counts = { running: 0, completed: 0, compensated: 0 };
    for (const instance of this.instances.values()) {
      if (instance.saga === saga) counts[instance.status]++;
    }
    return counts;
  }

  private write(key: string, instance: SagaInstance, sends: readonly PreparedEvent[]): void {
    this.instances.set(key, instance);
    const timeout = instance.timeout;
    if (timeout === undefined) this.timers.delete(key);
    else
      this.timers.set(key, {
        dueAt: timeout.dueAt,
        token: timeout.token,
        saga: instance.saga,
        id: instance.id,
      });
    if (sends.length > 0) this.outbox.add(sends);
  }
}
