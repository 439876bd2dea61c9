import {
  createBus,
  ErrorCodes,
  InMemoryTransport,
  MemoryBroker,
  type OutgoingMessage,
} from '@edakit/core';
import { CapturingTransport, waitFor } from '@edakit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createSagaRuntime, MemorySagaStore, type SagaDefinition, VirtualClock } from '../../src';
import { Pong, PongFailed, TickStarted, tickInstance, tickSaga } from '../support/tick-saga';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

interface Replica {
  bus: ReturnType<typeof createBus>;
  transport: CapturingTransport;
}

/** `replicas` runtimes of the same sagas over one store and one broker: a service scaled out. */
async function setup(sagas: SagaDefinition<{ labels: string[] }>[], replicas = 1) {
  const clock = new VirtualClock();
  const broker = new MemoryBroker();
  const store = new MemorySagaStore(() => clock.now());
  const nodes: Replica[] = [];
  for (let i = 0; i < replicas; i++) {
    const transport = new CapturingTransport(new InMemoryTransport({ broker }));
    const bus = createBus({
      transport,
      source: `/replica-${i}`,
      retry: { immediate: 0, delayed: [10, 10, 10, 10, 10] },
    });
    const runtime = createSagaRuntime({
      bus,
      transport,
      store,
      sagas: sagas as SagaDefinition<unknown>[],
      clock,
      relay: { pollIntervalMs: 10 },
    });
    await runtime.start();
    await bus.start();
    stops.push(
      () => bus.stop(),
      () => runtime.stop(),
    );
    nodes.push({ bus, transport });
  }
  const first = nodes[0] as Replica;
  const runtime = createSagaRuntime({
    bus: first.bus,
    transport: first.transport,
    store,
    sagas: sagas as SagaDefinition<unknown>[],
    clock,
  });
  const published = (type: string, counter: string) =>
    nodes
      .flatMap((node) => node.transport.captured)
      .filter((m: OutgoingMessage) => m.type === type && m.message.key === counter);
  const admin = new InMemoryTransport({ broker });
  return { clock, store, nodes, bus: first.bus, runtime, published, admin };
}

describe('saga guarantees (memory store)', () => {
  it('creates one instance when the start event arrives twice, or two start events race', async () => {
    const { bus, runtime, published } = await setup([tickSaga(2)], 2);
    const id = '01934000-0000-7000-8000-000000000001';
    await Promise.all([
      bus.publish(TickStarted, { counter: 'c-1' }, { id }),
      bus.publish(TickStarted, { counter: 'c-1' }, { id }),
      bus.publish(TickStarted, { counter: 'c-1' }),
    ]);
    await waitFor(async () => (await runtime.get('tick', 'c-1'))?.version === 1, {
      timeoutMs: 5000,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await runtime.get('tick', 'c-1')).toMatchObject({
      version: 1,
      step: 0,
      processed: [id],
    });
    expect(published('tick.ping', 'c-1')).toHaveLength(1);
  });

  it('applies a redelivered reply once: no second transition, no second command', async () => {
    const { bus, runtime, published } = await setup([tickSaga(3)]);
    await bus.publish(TickStarted, { counter: 'c-2' });
    await waitFor(() => published('tick.ping', 'c-2').length === 1, { timeoutMs: 5000 });
    const id = '01934000-0000-7000-8000-000000000002';
    for (let i = 0; i < 3; i++)
      await bus.publish(Pong, { counter: 'c-2', label: 'a' }, { id, correlationId: 'c-2' });
    await waitFor(() => published('tick.ping', 'c-2').length === 2, { timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await runtime.get('tick', 'c-2')).toMatchObject({
      version: 2,
      step: 1,
      data: { labels: ['a'] },
    });
    expect(published('tick.ping', 'c-2')).toHaveLength(2);
  });

  it('applies 50 concurrent replies to one saga on two replicas exactly once each', async () => {
    const { nodes, runtime } = await setup([tickSaga(50, { unexpected: 'retry' })], 2);
    await (nodes[0] as Replica).bus.publish(TickStarted, { counter: 'c-3' });
    await waitFor(async () => (await runtime.get('tick', 'c-3')) !== undefined, {
      timeoutMs: 5000,
    });
    const labels = Array.from({ length: 50 }, (_, i) => `r${i}`);
    await Promise.all(
      labels.map((label, i) =>
        (nodes[i % 2] as Replica).bus.publish(
          Pong,
          { counter: 'c-3', label },
          { correlationId: 'c-3' },
        ),
      ),
    );
    await waitFor(async () => (await runtime.get('tick', 'c-3'))?.status === 'completed', {
      timeoutMs: 15_000,
    });
    const saga = await runtime.get<{ labels: string[] }>('tick', 'c-3');
    expect(saga?.version).toBe(51);
    expect([...(saga?.data.labels ?? [])].sort()).toEqual([...labels].sort());
  });

  it('holds an early reply back under the retry policy and applies it once its step comes', async () => {
    const { bus, runtime, published } = await setup([tickSaga(2, { unexpected: 'retry' })]);
    // A reply overtakes the start event (it is delivered first).
    await bus.publish(Pong, { counter: 'c-4', label: 'early' }, { correlationId: 'c-4' });
    await bus.publish(TickStarted, { counter: 'c-4' });
    await waitFor(async () => (await runtime.get('tick', 'c-4'))?.step === 1, { timeoutMs: 5000 });
    expect((await runtime.get<{ labels: string[] }>('tick', 'c-4'))?.data.labels).toEqual([
      'early',
    ]);
    expect(published('tick.ping', 'c-4')).toHaveLength(2);
  });

  it('dead-letters an unexpected event under the fail policy, with its code', async () => {
    const { bus, admin } = await setup([tickSaga(1, { unexpected: 'fail' })]);
    const sent = await bus.publish(
      Pong,
      { counter: 'nobody', label: 'x' },
      { correlationId: 'nobody' },
    );
    const letters = await waitFor(
      async () => {
        const found = await admin.listDeadLetters({ group: 'saga.tick' });
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 5000 },
    );
    expect(letters[0]?.message.headers.ce_id).toBe(sent.id);
    expect(letters[0]?.info).toMatchObject({
      errorCode: ErrorCodes.UNEXPECTED_SAGA_EVENT,
      attempts: 1,
    });
  });

  it('refuses an instance of an unregistered definition version', async () => {
    const { bus, store, admin } = await setup([tickSaga(1, { version: 2 })]);
    await store.create(tickInstance('old', { createdAt: 0, updatedAt: 0 }), []);
    await bus.publish(Pong, { counter: 'old', label: 'x' }, { correlationId: 'old' });
    const letters = await waitFor(
      async () => {
        const found = await admin.listDeadLetters({ group: 'saga.tick' });
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 5000 },
    );
    expect(letters[0]?.info.errorCode).toBe(ErrorCodes.UNKNOWN_SAGA_VERSION);
    expect(letters[0]?.info.errorMessage).toContain(
      'definition version 1, which is not registered (registered: 2)',
    );
  });

  it('retries a failed step after the pivot until it succeeds, never compensating', async () => {
    const { bus, runtime, published, clock } = await setup([tickSaga(2, { pivot: 1 })]);
    await bus.publish(TickStarted, { counter: 'c-5' });
    await bus.publish(Pong, { counter: 'c-5', label: 'one' }, { correlationId: 'c-5' });
    await waitFor(() => published('tick.ping', 'c-5').length === 2, { timeoutMs: 5000 });
    await bus.publish(PongFailed, { counter: 'c-5' }, { correlationId: 'c-5' });
    await waitFor(async () => (await runtime.get('tick', 'c-5'))?.timeout?.kind === 'retry', {
      timeoutMs: 5000,
    });
    expect(await runtime.get('tick', 'c-5')).toMatchObject({ status: 'running', attempt: 2 });
    clock.advance(1_000);
    await waitFor(() => published('tick.ping', 'c-5').length === 3, { timeoutMs: 5000 });
    // Timing out after the pivot re-sends too, instead of compensating.
    clock.advance(30_000);
    await waitFor(() => published('tick.ping', 'c-5').length === 4, { timeoutMs: 5000 });
    await bus.publish(Pong, { counter: 'c-5', label: 'two' }, { correlationId: 'c-5' });
    await waitFor(async () => (await runtime.get('tick', 'c-5'))?.status === 'completed', {
      timeoutMs: 5000,
    });
    expect(await runtime.get('tick', 'c-5')).toMatchObject({
      attempt: 3,
      data: { labels: ['one', 'two'] },
    });
    expect(published('tick.ping', 'c-5').map((m) => m.message.headers.ce_subject)).toEqual([
      'tick/c-5/step-1',
      'tick/c-5/step-2',
      'tick/c-5/step-2',
      'tick/c-5/step-2',
    ]);
  });

  it('ignores a stale timer and does not fire one twice', async () => {
    const { bus, runtime, clock, published } = await setup([tickSaga(1)]);
    await bus.publish(TickStarted, { counter: 'c-6' });
    await waitFor(async () => (await runtime.get('tick', 'c-6')) !== undefined, {
      timeoutMs: 5000,
    });
    await bus.publish(Pong, { counter: 'c-6', label: 'done' }, { correlationId: 'c-6' });
    await waitFor(async () => (await runtime.get('tick', 'c-6'))?.status === 'completed', {
      timeoutMs: 5000,
    });
    clock.advance(60_000);
    expect(await runtime.fireDueTimeouts()).toBe(0);
    expect((await runtime.get('tick', 'c-6'))?.version).toBe(2);
    expect(published('tick.ping', 'c-6')).toHaveLength(1);
  });
});
