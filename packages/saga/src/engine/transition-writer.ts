import { type Logger, messageOf, type PreparedEvent } from '@edakit/core';
import type { Publisher } from '@edakit/outbox';
import {
  type DispatchingSagaStore,
  isDispatchingStore,
  type SagaStore,
  type SendLease,
} from '../store/saga-store';
import { InstanceCache } from './instance-cache';
import type { SagaInstance } from './saga-instance';
import { TurnPublisher } from './turn-publisher';

/**
 * Stores a runtime's transitions. With a store that leases commands to their
 * writer (DispatchingSagaStore), it publishes them right after the write and
 * remembers the instance as stored, so the next transition can skip the load;
 * with any other store, the store's outbox relay publishes them.
 */
export class TransitionWriter {
  private readonly dispatching: DispatchingSagaStore | undefined;
  private readonly cache: InstanceCache;
  private readonly publisher: TurnPublisher;
  /** Lease settles still on their way to the store. */
  private readonly settling = new Set<Promise<void>>();

  constructor(
    private readonly store: SagaStore,
    transport: Publisher,
    private readonly logger: Logger,
    cacheSize: number,
  ) {
    this.dispatching = isDispatchingStore(store) ? store : undefined;
    this.cache = new InstanceCache(this.dispatching === undefined ? 0 : cacheSize);
    this.publisher = new TurnPublisher(transport);
  }

  /** The instance as this runtime last stored it, if it remembers it. */
  known(key: string): SagaInstance | undefined {
    return this.cache.get(key);
  }

  /** Forgets the instance: another writer may have changed it. */
  forget(key: string): void {
    this.cache.drop(key);
  }

  /**
   * Creates (`current` undefined) or compare-and-sets the instance with its
   * commands; false when another writer got there first. Resolves once leased
   * commands were published (or handed to the outbox).
   */
  async write(
    key: string,
    current: SagaInstance | undefined,
    instance: SagaInstance,
    sends: readonly PreparedEvent[],
  ): Promise<boolean> {
    const { dispatching, store } = this;
    if (dispatching === undefined) {
      return current === undefined ? store.create(instance, sends) : store.update(instance, sends);
    }
    const written = await dispatching.doWrite(
      current === undefined ? 'create' : 'update',
      instance,
      sends,
    );
    if (written === false) return false;
    this.cache.keep(key, written.stored);
    if (written.lease !== undefined) await this.dispatch(instance, sends, written.lease);
    return true;
  }

  /** Moves commands whose lease ran out to the outbox (a dispatching store only). */
  async sweep(limit: number): Promise<number> {
    return this.dispatching === undefined ? 0 : this.dispatching.doSweepSends(limit);
  }

  /** Resolves once every lease settle so far reached the store. */
  async settled(): Promise<void> {
    await Promise.all(this.settling);
  }

  /**
   * Publishes leased commands (with the others of this turn), then settles
   * the lease without waiting for it. Commands that could not be published
   * go to the store's outbox, whose relay retries them.
   */
  private async dispatch(
    instance: SagaInstance,
    sends: readonly PreparedEvent[],
    lease: SendLease,
  ): Promise<void> {
    let published = true;
    try {
      await this.publisher.publish(sends.map((send) => send.outgoing));
    } catch (error) {
      published = false;
      this.logger.warn(
        { saga: instance.saga, sagaId: instance.id, error: messageOf(error) },
        'saga commands could not be published; the outbox relay retries them',
      );
    }
    const settle = lease
      .settle(published)
      .catch((error: unknown) => {
        this.logger.warn(
          { saga: instance.saga, sagaId: instance.id, error: messageOf(error) },
          'saga commands were handed on but their lease could not be ended; they are published again once it runs out',
        );
      })
      .finally(() => this.settling.delete(settle));
    this.settling.add(settle);
  }
}
