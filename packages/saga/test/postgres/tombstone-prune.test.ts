import { createBus, ErrorCodes, InMemoryTransport } from '@edakit/core';
import { waitFor } from '@edakit/core/testing';
import { describe, expect, it } from 'vitest';
import {
  createSagaRuntime,
  MemorySagaStore,
  prunesTombstones,
  type SagaDefinition,
  VirtualClock,
} from '../../src';
import type { PostgresSagaStore } from '../../src/postgres/postgres-saga-store';
import { usePostgresSagaStores } from '../support/postgres';
import { T0, tickInstance, tickSaga } from '../support/tick-saga';

const postgres = usePostgresSagaStores();

const TTL = 60_000;

const instance = tickInstance;

/** A running instance, and two tombstones: one finished at T0, one at T0 + 50 s. */
async function storeWithTombstones(): Promise<PostgresSagaStore> {
  const store = await postgres.openAt(postgres.table(), { tombstoneTtlMs: TTL });
  await store.create(instance('running'), []);
  for (const [id, at] of [
    ['old', T0],
    ['recent', T0 + 50_000],
  ] as const) {
    await store.create(instance(id), []);
    await store.update(instance(id, { version: 2, status: 'completed', updatedAt: at }), []);
  }
  return store;
}

function runtimeOver(store: PostgresSagaStore, clock: VirtualClock, pruneEveryMs: number) {
  const transport = new InMemoryTransport();
  return createSagaRuntime({
    bus: createBus({ transport, source: '/tombstone-prune-test' }),
    transport,
    store,
    sagas: [tickSaga(2) as SagaDefinition<unknown>],
    clock,
    tombstonePruneIntervalMs: pruneEveryMs,
  });
}

const ids = async (store: PostgresSagaStore) =>
  (await store.find({ saga: 'tick' })).map((saga) => saga.id).sort();

describe('the runtime prunes tombstones of a store that keeps them (PostgreSQL)', () => {
  it('saga-12: deletes finished instances older than tombstoneTtlMs by its clock, every tombstonePruneIntervalMs', async () => {
    const store = await storeWithTombstones();
    expect(prunesTombstones(store)).toBe(true);
    // 'old' finished 70 s ago, 'recent' 20 s ago.
    const clock = new VirtualClock(T0 + 70_000);
    const runtime = runtimeOver(store, clock, 50);
    await runtime.start();
    try {
      await waitFor(async () => (await store.load('tick', 'old')) === undefined, {
        timeoutMs: 5000,
      });
      expect(await ids(store)).toEqual(['recent', 'running']);
      // Now 'recent' finished more than tombstoneTtlMs ago as well.
      clock.advance(41_000);
      await waitFor(async () => (await store.load('tick', 'recent')) === undefined, {
        timeoutMs: 5000,
      });
      // A running instance is never a tombstone, however old.
      clock.advance(10 * TTL);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await ids(store)).toEqual(['running']);
    } finally {
      await runtime.stop();
    }
  });

  it('prunes nothing with tombstonePruneIntervalMs: 0, nor before the first interval', async () => {
    const off = await storeWithTombstones();
    const clock = new VirtualClock(T0 + 10 * TTL);
    const never = runtimeOver(off, clock, 0);
    const later = await storeWithTombstones();
    const hourly = runtimeOver(later, clock, 3_600_000);
    await never.start();
    await hourly.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await ids(off)).toEqual(['old', 'recent', 'running']);
      expect(await ids(later)).toEqual(['old', 'recent', 'running']);
    } finally {
      await never.stop();
      await hourly.stop();
    }
  });

  it('refuses an interval that is not an integer >= 0 (EDAKIT_INVALID_OPTIONS); a store without tombstones needs none', () => {
    const transport = new InMemoryTransport();
    const options = {
      bus: createBus({ transport, source: '/tombstone-prune-test' }),
      transport,
      store: new MemorySagaStore(),
      sagas: [tickSaga(2) as SagaDefinition<unknown>],
    };
    for (const tombstonePruneIntervalMs of [-1, 1.5, Number.NaN]) {
      expect(() => createSagaRuntime({ ...options, tombstonePruneIntervalMs })).toThrow(
        expect.objectContaining({ code: ErrorCodes.INVALID_OPTIONS }),
      );
    }
    expect(prunesTombstones(options.store)).toBe(false);
  });
});
