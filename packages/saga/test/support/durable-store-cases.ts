/**
 * The cases every durable saga store passes against its real service: the
 * store contract (create-if-absent, compare-and-set, leased timers, find) and
 * the runtime on top of it (reference case, contention, restarts, replicas,
 * many timers). Each store's test file binds them to its backend.
 */
import {
  createBus,
  InMemoryTransport,
  MemoryBroker,
  type OutgoingMessage,
  type PreparedEvent,
} from '@edakit/core';
import { CapturingTransport, waitFor } from '@edakit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSagaRuntime,
  type DispatchingSagaStore,
  isDispatchingStore,
  type SagaDefinition,
  type SagaInstance,
  type SagaRuntime,
  type SagaStore,
  VirtualClock,
} from '../../src';
import { OrderCreated, OrderSaga, subscribeParticipants } from './order-saga';
import { Ping, Pong, T0, TickStarted, tickInstance, tickSaga } from './tick-saga';

export interface StoreFactory<S extends SagaStore = SagaStore> {
  /**
   * A new store (own connection or pool) over the same data: a replica, or a
   * restarted process. `connections` sizes a connection pool where the store
   * has one (PostgreSQL: concurrent transactions share the WAL flushes).
   */
  open(options?: { connections?: number }): Promise<S>;
}

export interface StoreBackend<S extends SagaStore = SagaStore> {
  readonly name: string;
  /** Empty data of its own (a key prefix, a table). */
  fresh(name: string): Promise<StoreFactory<S>>;
  /** Closes the connections opened so far; called after each test once its runtimes stopped. */
  release(): Promise<void>;
}

const producer = createBus({ transport: new InMemoryTransport(), source: '/saga-store-cases' });
const ping = (counter: string, step: number): PreparedEvent =>
  producer.prepare(Ping, { counter, step });

/** Claims and settles everything in the store's outbox; the envelope ids in claim order. */
async function drain(store: SagaStore): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const claim = await store.outbox.claim({ limit: 1000, leaseMs: 60_000 });
    if (claim === undefined) return ids;
    ids.push(...claim.records.map((record) => record.id));
    await store.outbox.settle(claim, { published: claim.records, failed: [] });
  }
}

/**
 * Counts what the runtimes do with a store: claimed timers and lost
 * compare-and-sets. A store that leases commands to the runtime (Redis) keeps
 * that ability, so the runtime works with it as it would unobserved.
 */
function observed(store: SagaStore, claimed: string[], conflicts: { count: number }): SagaStore {
  const wrapper: SagaStore = {
    create: (instance, sends) => store.create(instance, sends),
    load: (saga, id) => store.load(saga, id),
    async update(instance, sends) {
      const written = await store.update(instance, sends);
      if (!written) conflicts.count += 1;
      return written;
    },
    async claimDueTimeouts(now, limit, leaseMs) {
      const due = await store.claimDueTimeouts(now, limit, leaseMs);
      claimed.push(...due.map((timer) => `${timer.saga}/${timer.id}/${timer.token}`));
      return due;
    },
    find: (query) => store.find(query),
    countInstances: (saga) => store.countInstances(saga),
    outbox: store.outbox,
    commits: store.commits,
  };
  if (!isDispatchingStore(store)) return wrapper;
  const dispatching: DispatchingSagaStore = {
    ...wrapper,
    async doWrite(mode, instance, sends) {
      const written = await store.doWrite(mode, instance, sends);
      if (written === false && mode === 'update') conflicts.count += 1;
      return written;
    },
    doSweepSends: (limit) => store.doSweepSends(limit),
  };
  return dispatching;
}

/** Also records into a log shared by several transports. */
class SharedCapture extends CapturingTransport {
  constructor(
    inner: InMemoryTransport,
    private readonly log: OutgoingMessage[],
  ) {
    super(inner);
  }

  override async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    await super.publish(messages);
    this.log.push(...messages);
  }
}

const figure = (text: string) => console.info(`[figure] ${text}`);

export function durableStoreCases(backend: StoreBackend): void {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    publishedLog = [];
    await backend.release();
  });

  interface Node {
    readonly bus: ReturnType<typeof createBus>;
    readonly transport: CapturingTransport;
    readonly runtime: SagaRuntime;
  }

  /** What all replicas' relays published, in the order the publishes completed. */
  let publishedLog: OutgoingMessage[] = [];

  /** One runtime per store, all on one broker and one clock: a service scaled out. */
  async function replicas(
    stores: readonly SagaStore[],
    sagas: readonly SagaDefinition<unknown>[],
    clock: VirtualClock,
    broker = new MemoryBroker(),
    timeoutPollMs = 250,
  ): Promise<Node[]> {
    const nodes: Node[] = [];
    for (const [i, store] of stores.entries()) {
      const transport = new SharedCapture(new InMemoryTransport({ broker }), publishedLog);
      const bus = createBus({
        transport,
        source: `/replica-${i}`,
        retry: { immediate: 0, delayed: [10, 10, 10, 10, 10] },
      });
      const runtime = createSagaRuntime({
        bus,
        transport,
        store,
        sagas: [...sagas],
        clock,
        timeoutPollMs,
        relay: { pollIntervalMs: 20 },
      });
      await runtime.start();
      await bus.start();
      stops.push(
        () => bus.stop(),
        () => runtime.stop(),
      );
      nodes.push({ bus, transport, runtime });
    }
    return nodes;
  }

  /** A bus of the participant services on the same broker. */
  async function participantsOn(broker: MemoryBroker) {
    const bus = createBus({
      transport: new InMemoryTransport({ broker }),
      source: '/participants',
      retry: { immediate: 0, delayed: [10, 10, 10] },
    });
    const participants = subscribeParticipants(bus);
    await bus.start();
    stops.push(() => bus.stop());
    return { bus, participants };
  }

  describe(`${backend.name} saga store: the SagaStore contract`, () => {
    it('saga-1: of 20 concurrent creates of one id exactly one wins, and only its command is in the outbox', async () => {
      const factory = await backend.fresh('create-race');
      const stores = await Promise.all([1, 2, 3, 4].map(() => factory.open()));
      const contenders = Array.from({ length: 20 }, (_, i) => ({
        instance: tickInstance('c-1', { data: { labels: [`w${i}`] } }),
        send: ping('c-1', i),
      }));
      const results = await Promise.all(
        contenders.map(({ instance, send }, i) =>
          (stores[i % stores.length] as SagaStore).create(instance, [send]),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = contenders[results.indexOf(true)];
      expect(await (stores[0] as SagaStore).load('tick', 'c-1')).toEqual(winner?.instance);
      expect(await drain(stores[0] as SagaStore)).toEqual([winner?.send.envelope.id]);
    });

    it('compare-and-set: of 10 updates from one loaded version exactly one is stored, with its commands only (10 rounds)', async () => {
      const factory = await backend.fresh('cas');
      const stores = await Promise.all([1, 2, 3].map(() => factory.open()));
      const first = stores[0] as SagaStore;
      expect(await first.create(tickInstance('c-2'), [])).toBe(true);
      const winners: string[] = [];
      const labels: string[] = [];
      for (let round = 1; round <= 10; round++) {
        const current = (await first.load('tick', 'c-2')) as SagaInstance<{ labels: string[] }>;
        const contenders = Array.from({ length: 10 }, (_, i) => ({
          instance: {
            ...current,
            version: current.version + 1,
            data: { labels: [...current.data.labels, `r${round}-${i}`] },
            processed: [...current.processed, `event-${round}-${i}`],
            updatedAt: T0 + round,
          },
          send: ping('c-2', round * 100 + i),
        }));
        const results = await Promise.all(
          contenders.map(({ instance, send }, i) =>
            (stores[i % stores.length] as SagaStore).update(instance, [send]),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const index = results.indexOf(true);
        winners.push(contenders[index]?.send.envelope.id as string);
        labels.push(`r${round}-${index}`);
      }
      const final = await first.load('tick', 'c-2');
      expect(final).toMatchObject({ version: 11, data: { labels }, updatedAt: T0 + 10 });
      expect(final?.processed).toHaveLength(10);
      // The winners' commands, in commit order (one partition key): the losers wrote nothing.
      expect(await drain(first)).toEqual(winners);
    });

    it('update is false for a missing instance and for a stale version, and writes nothing', async () => {
      const store = await (await backend.fresh('stale')).open();
      expect(await store.update(tickInstance('nobody', { version: 2 }), [ping('nobody', 1)])).toBe(
        false,
      );
      await store.create(tickInstance('c-3'), []);
      expect(await store.update(tickInstance('c-3', { version: 2, step: 1 }), [])).toBe(true);
      expect(
        await store.update(tickInstance('c-3', { version: 2, step: 7 }), [ping('c-3', 7)]),
      ).toBe(false);
      expect(await store.load('tick', 'c-3')).toMatchObject({ version: 2, step: 1 });
      expect(await store.load('tick', 'nobody')).toBeUndefined();
      expect(await drain(store)).toEqual([]);
    });

    it('keeps an instance’s trace context as written (one or many writes at once), read back by another store', async () => {
      const factory = await backend.fresh('trace-context');
      const [writer, reader] = [await factory.open(), await factory.open()];
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const traced = (id: string) =>
        tickInstance(id, { traceparent, tracestate: 'vendor=abc,other=x' });
      // Written in the same turn: the stores that batch writes write them together.
      expect(
        await Promise.all([writer.create(traced('t-1'), []), writer.create(traced('t-2'), [])]),
      ).toEqual([true, true]);
      expect(await writer.create(tickInstance('t-3'), [])).toBe(true);
      expect(await reader.load('tick', 't-1')).toEqual(traced('t-1'));
      expect(await reader.load('tick', 't-2')).toEqual(traced('t-2'));
      const untraced = await reader.load('tick', 't-3');
      expect(untraced).toEqual(tickInstance('t-3'));
      expect(untraced).not.toHaveProperty('traceparent');

      const next = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
      const moved = {
        ...traced('t-1'),
        version: 2,
        step: 1,
        traceparent: next,
        tracestate: undefined,
      };
      expect(
        await Promise.all([
          writer.update(moved, []),
          writer.update({ ...traced('t-2'), version: 2 }, []),
        ]),
      ).toEqual([true, true]);
      const loaded = await reader.load('tick', 't-1');
      expect(loaded).toMatchObject({ version: 2, step: 1, traceparent: next });
      expect(loaded).not.toHaveProperty('tracestate');
      expect(await reader.load('tick', 't-2')).toEqual({ ...traced('t-2'), version: 2 });
    });

    it('indexes the timer with the instance, leases it when claimed, re-indexes and removes it with later writes', async () => {
      const store = await (await backend.fresh('timers')).open();
      const id = 'order:7'; // ids may contain the member separator
      const instance = tickInstance(id, {
        timeout: { token: 'tok-1', dueAt: T0 + 1000, kind: 'reply' },
      });
      await store.create(instance, []);
      const due = (token: string) => [{ saga: 'tick', id, token }];
      expect(await store.claimDueTimeouts(T0 + 999, 10, 5000)).toEqual([]);
      expect(await store.claimDueTimeouts(T0 + 1000, 10, 5000)).toEqual(due('tok-1'));
      // Leased: no other runtime gets it meanwhile...
      expect(await store.claimDueTimeouts(T0 + 1000, 10, 5000)).toEqual([]);
      expect(await store.claimDueTimeouts(T0 + 5999, 10, 5000)).toEqual([]);
      // ...but if its runtime died, it fires again once the lease ran out.
      expect(await store.claimDueTimeouts(T0 + 6000, 10, 5000)).toEqual(due('tok-1'));
      // The instance still says when the timer was due.
      expect((await store.load('tick', id))?.timeout).toEqual(instance.timeout);
      // A transition schedules a new timer: new token and due time, lease forgotten.
      const next = tickInstance(id, {
        version: 2,
        timeout: { token: 'tok-2', dueAt: T0 + 20_000, kind: 'retry' },
      });
      expect(await store.update(next, [])).toBe(true);
      expect(await store.claimDueTimeouts(T0 + 19_999, 10, 5000)).toEqual([]);
      expect(await store.claimDueTimeouts(T0 + 20_000, 10, 5000)).toEqual(due('tok-2'));
      expect((await store.load('tick', id))?.timeout).toEqual(next.timeout);
      // No timeout, no timer.
      expect(await store.update(tickInstance(id, { version: 3, status: 'completed' }), [])).toBe(
        true,
      );
      expect(await store.claimDueTimeouts(T0 + 1e9, 10, 5000)).toEqual([]);
    });

    it('claims the earliest due timers first, at most `limit`, and never one timer twice across replicas', async () => {
      const factory = await backend.fresh('claims');
      const stores = await Promise.all([1, 2, 3].map(() => factory.open()));
      const first = stores[0] as SagaStore;
      for (let i = 5; i >= 1; i--) {
        await first.create(
          tickInstance(`t-${i}`, { timeout: { token: `k-${i}`, dueAt: T0 + i, kind: 'reply' } }),
          [],
        );
      }
      const ids = async (limit: number) =>
        (await first.claimDueTimeouts(T0 + 10, limit, 60_000)).map((t) => t.id);
      expect(await ids(2)).toEqual(['t-1', 't-2']);
      expect(await ids(2)).toEqual(['t-3', 't-4']);
      expect(await ids(2)).toEqual(['t-5']);
      expect(await ids(2)).toEqual([]);
      // Leases ran out (the claimers died): 30 concurrent claims on three replicas share them out.
      const claims = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          (stores[i % 3] as SagaStore).claimDueTimeouts(T0 + 60_010, 1, 60_000),
        ),
      );
      const tokens = claims.flat().map((t) => t.token);
      expect([...tokens].sort()).toEqual(['k-1', 'k-2', 'k-3', 'k-4', 'k-5']);
    });

    it('signals `commits` after each write that put commands in the outbox, and only then', async () => {
      const store = await (await backend.fresh('commits')).open();
      let signals = 0;
      const off = store.commits.subscribe(() => {
        signals += 1;
      });
      try {
        expect(await store.create(tickInstance('s-1'), [ping('s-1', 1)])).toBe(true);
        expect(signals).toBe(1);
        expect(await store.create(tickInstance('s-1'), [ping('s-1', 2)])).toBe(false);
        expect(await store.update(tickInstance('s-1', { version: 2 }), [])).toBe(true);
        expect(await store.update(tickInstance('s-1', { version: 2 }), [ping('s-1', 3)])).toBe(
          false,
        );
        expect(signals).toBe(1);
        expect(await store.update(tickInstance('s-1', { version: 3 }), [ping('s-1', 4)])).toBe(
          true,
        );
        expect(signals).toBe(2);
      } finally {
        off();
      }
    });

    it('finds and counts instances by saga and status', async () => {
      const store = await (await backend.fresh('find')).open();
      for (const id of ['a', 'b', 'c', 'd', 'e']) await store.create(tickInstance(id), []);
      await store.create({ ...tickInstance('a'), saga: 'other' }, []);
      for (const id of ['b', 'd']) {
        await store.update(tickInstance(id, { version: 2, status: 'completed' }), []);
      }
      await store.update(tickInstance('e', { version: 2, status: 'compensated' }), []);
      const ids = async (query: Parameters<SagaStore['find']>[0]) =>
        (await store.find(query)).map((instance) => instance.id).sort();
      expect(await ids({ saga: 'tick' })).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(await ids({ saga: 'tick', status: 'running' })).toEqual(['a', 'c']);
      expect(await ids({ saga: 'tick', status: 'completed' })).toEqual(['b', 'd']);
      expect(await ids({ saga: 'tick', status: 'compensated' })).toEqual(['e']);
      expect(await ids({ saga: 'tick', limit: 2 })).toHaveLength(2);
      expect(await ids({ saga: 'other' })).toEqual(['a']);
      expect(await ids({ saga: 'missing' })).toEqual([]);
      expect(await store.countInstances('tick')).toEqual({
        running: 2,
        completed: 2,
        compensated: 1,
      });
      expect(await store.countInstances('other')).toEqual({
        running: 1,
        completed: 0,
        compensated: 0,
      });
      expect(await store.countInstances('missing')).toEqual({
        running: 0,
        completed: 0,
        compensated: 0,
      });
      expect((await store.find({ saga: 'tick', status: 'completed' }))[0]).toMatchObject({
        saga: 'tick',
        status: 'completed',
        version: 2,
      });
    });
  });

  describe(`${backend.name} saga store: the order saga (reference case)`, () => {
    async function setup() {
      const clock = new VirtualClock();
      const store = await (await backend.fresh('reference')).open();
      const [node] = await replicas([store], [OrderSaga as SagaDefinition<unknown>], clock);
      const { bus, runtime, transport } = node as Node;
      const participants = subscribeParticipants(bus);
      const sentFor = (orderId: string) =>
        transport.captured
          .filter((m: OutgoingMessage) => m.message.key === orderId && m.type !== 'order.created')
          .map((m) => m.type);
      return { clock, bus, runtime, participants, sentFor, transport };
    }

    const items = [{ sku: 'sku-1', quantity: 2 }];

    it('completes when every step succeeds', async () => {
      const { bus, runtime, sentFor } = await setup();
      await bus.publish(OrderCreated, { orderId: 'o-1', items, total: 40 });
      await waitFor(async () => (await runtime.get('order', 'o-1'))?.status === 'completed', {
        timeoutMs: 5000,
      });
      expect(await runtime.get('order', 'o-1')).toMatchObject({
        status: 'completed',
        completedSteps: ['reserve-inventory', 'charge-payment', 'create-shipment'],
        definitionVersion: 1,
        version: 4,
        data: { paymentId: 'pay-o-1' },
        timeout: undefined,
      });
      await waitFor(() => sentFor('o-1').includes('order.confirmed'), { timeoutMs: 5000 });
      expect(sentFor('o-1')).toEqual([
        'inventory.reserve',
        'inventory.reserved',
        'payment.charge',
        'payment.charged',
        'shipping.create',
        'shipping.created',
        'order.confirmed',
      ]);
    });

    it('releases the inventory and cancels the order when the payment fails', async () => {
      const { bus, runtime, participants, sentFor } = await setup();
      participants.failPayment.add('o-2');
      await bus.publish(OrderCreated, { orderId: 'o-2', items, total: 40 });
      await waitFor(() => sentFor('o-2').includes('order.cancelled'), { timeoutMs: 5000 });
      expect(await runtime.get('order', 'o-2')).toMatchObject({
        status: 'compensated',
        completedSteps: ['reserve-inventory'],
        failure: { step: 'charge-payment', reason: 'failed' },
      });
      expect(sentFor('o-2').slice(-2)).toEqual(['inventory.release', 'order.cancelled']);
      expect(sentFor('o-2')).not.toContain('payment.refund');
      await waitFor(() => participants.received.includes('inventory.release o-2'), {
        timeoutMs: 5000,
      });
    });

    it('a timer’s commands carry the trace context of the step that set it, kept with the instance', async () => {
      const { bus, runtime, participants, clock, transport } = await setup();
      participants.silentShipping.add('o-4');
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      await bus.publish(OrderCreated, { orderId: 'o-4', items, total: 40 }, { traceparent });
      await waitFor(() => participants.received.includes('shipping.create o-4'), {
        timeoutMs: 5000,
      });
      expect((await runtime.get('order', 'o-4'))?.traceparent).toBe(traceparent);
      clock.advance(2_001);
      const compensations = ['shipping.cancel', 'payment.refund', 'inventory.release'];
      const sent = () =>
        transport.captured.filter((m) => m.message.key === 'o-4' && compensations.includes(m.type));
      await waitFor(() => sent().length === 3, { timeoutMs: 5000 });
      expect(sent().map((m) => [m.type, m.message.headers.ce_traceparent])).toEqual(
        compensations.map((type) => [type, traceparent]),
      );
    });

    it('refunds then releases, in that order, when shipping times out', async () => {
      const { bus, runtime, participants, clock, sentFor } = await setup();
      participants.silentShipping.add('o-3');
      await bus.publish(OrderCreated, { orderId: 'o-3', items, total: 40 });
      await waitFor(() => participants.received.includes('shipping.create o-3'), {
        timeoutMs: 5000,
      });
      expect((await runtime.get('order', 'o-3'))?.status).toBe('running');
      clock.advance(1_999);
      expect(await runtime.fireDueTimeouts()).toBe(0);
      clock.advance(2);
      await waitFor(async () => (await runtime.get('order', 'o-3'))?.status === 'compensated', {
        timeoutMs: 5000,
      });
      await waitFor(() => sentFor('o-3').includes('order.cancelled'), { timeoutMs: 5000 });
      expect(sentFor('o-3').slice(-4)).toEqual([
        'shipping.cancel',
        'payment.refund',
        'inventory.release',
        'order.cancelled',
      ]);
      expect(await runtime.get('order', 'o-3')).toMatchObject({
        failure: { step: 'create-shipment', reason: 'timed-out' },
      });
      await waitFor(() => participants.received.includes('payment.refund(pay-o-3) o-3'), {
        timeoutMs: 5000,
      });
    });
  });

  describe(`${backend.name} saga store: under the runtime`, () => {
    it('saga-2: applies 50 concurrent replies (and 10 redeliveries) to one saga on two replicas exactly once each', async () => {
      const factory = await backend.fresh('fifty');
      const claimed: string[] = [];
      const conflicts = { count: 0 };
      const stores = await Promise.all(
        [1, 2].map(async () => observed(await factory.open(), claimed, conflicts)),
      );
      const clock = new VirtualClock();
      const nodes = await replicas(
        stores,
        [tickSaga(50, { unexpected: 'retry' }) as SagaDefinition<unknown>],
        clock,
      );
      const [a, b] = nodes as [Node, Node];
      await a.bus.publish(TickStarted, { counter: 'c-50' });
      await waitFor(async () => (await a.runtime.get('tick', 'c-50')) !== undefined, {
        timeoutMs: 5000,
      });
      const labels = Array.from({ length: 50 }, (_, i) => `r${i}`);
      const started = Date.now();
      // Each reply under its own partition key, so the broker does not serialise
      // them: both replicas apply replies to the same instance at the same time.
      const sent = await Promise.all(
        labels.map((label, i) =>
          (i % 2 === 0 ? a : b).bus.publish(
            Pong,
            { counter: 'c-50', label },
            { correlationId: 'c-50', partitionKey: `c-50/${label}` },
          ),
        ),
      );
      // Ten of them delivered again (same envelope id), to the other replica.
      await Promise.all(
        sent
          .slice(0, 10)
          .map((envelope, i) =>
            (i % 2 === 0 ? b : a).bus.publish(
              Pong,
              { counter: 'c-50', label: labels[i] as string },
              { correlationId: 'c-50', id: envelope.id, partitionKey: `c-50/dup-${i}` },
            ),
          ),
      );
      await waitFor(async () => (await a.runtime.get('tick', 'c-50'))?.status === 'completed', {
        timeoutMs: 20_000,
      });
      const elapsed = Date.now() - started;
      const saga = await a.runtime.get<{ labels: string[] }>('tick', 'c-50');
      expect(saga?.version).toBe(51);
      expect([...(saga?.data.labels ?? [])].sort()).toEqual([...labels].sort());
      // One command per step, none twice.
      const pings = () =>
        nodes
          .flatMap((node) => node.transport.captured)
          .filter((m: OutgoingMessage) => m.type === 'tick.ping' && m.message.key === 'c-50');
      await waitFor(() => pings().length >= 50, { timeoutMs: 5000 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const subjects = pings().map((m) => m.message.headers.ce_subject);
      expect(subjects).toHaveLength(50);
      expect(new Set(subjects).size).toBe(50);
      figure(
        `${backend.name}: 50 contended replies on 2 replicas applied in ${elapsed} ms (${conflicts.count} compare-and-set conflicts retried)`,
      );
    });

    it('saga-6: a timer survives the process: a new store and runtime over the same data fire it', async () => {
      const factory = await backend.fresh('restart');
      const clock = new VirtualClock();
      const items = [{ sku: 'sku-1', quantity: 1 }];
      // The first process starts the order; shipping never answers.
      const brokerA = new MemoryBroker();
      const [first] = await replicas(
        [await factory.open()],
        [OrderSaga as SagaDefinition<unknown>],
        clock,
        brokerA,
      );
      const a = await participantsOn(brokerA);
      a.participants.silentShipping.add('o-r');
      await a.bus.publish(OrderCreated, { orderId: 'o-r', items, total: 10 });
      await waitFor(() => a.participants.received.includes('shipping.create o-r'), {
        timeoutMs: 5000,
      });
      // It stops (its runtime, relay and bus are gone; only the store's data remains).
      for (const stop of stops.splice(0).reverse()) await stop();
      expect((await first?.runtime.get('order', 'o-r'))?.status).toBe('running');

      const brokerB = new MemoryBroker();
      const [second] = await replicas(
        [await factory.open()],
        [OrderSaga as SagaDefinition<unknown>],
        clock,
        brokerB,
      );
      const b = await participantsOn(brokerB);
      clock.advance(2_001);
      const sent = () =>
        (second as Node).transport.captured
          .filter((m: OutgoingMessage) => m.message.key === 'o-r')
          .map((m) => m.type);
      await waitFor(() => sent().includes('order.cancelled'), { timeoutMs: 5000 });
      expect(sent()).toEqual([
        'shipping.cancel',
        'payment.refund',
        'inventory.release',
        'order.cancelled',
      ]);
      expect(await second?.runtime.get('order', 'o-r')).toMatchObject({
        status: 'compensated',
        failure: { step: 'create-shipment', reason: 'timed-out' },
      });
      await waitFor(() => b.participants.received.includes('payment.refund(pay-o-r) o-r'), {
        timeoutMs: 5000,
      });
    });

    it('two replicas run 200 orders (20 payment failures, 20 shipping time-outs): every saga ends, no command sent twice, no timer fired twice', async () => {
      const factory = await backend.fresh('replicas');
      const claimed: string[] = [];
      const conflicts = { count: 0 };
      const stores = await Promise.all(
        [1, 2].map(async () => observed(await factory.open(), claimed, conflicts)),
      );
      const clock = new VirtualClock();
      const broker = new MemoryBroker();
      const nodes = await replicas(stores, [OrderSaga as SagaDefinition<unknown>], clock, broker);
      const { bus, participants } = await participantsOn(broker);
      const orders = Array.from({ length: 200 }, (_, i) => `order-${i}`);
      const kind = (i: number) => (i % 10 === 3 ? 'payment' : i % 10 === 7 ? 'shipping' : 'ok');
      orders.forEach((orderId, i) => {
        if (kind(i) === 'payment') participants.failPayment.add(orderId);
        if (kind(i) === 'shipping') participants.silentShipping.add(orderId);
      });
      const runtime = (nodes[0] as Node).runtime;
      const all = async () => [...(await runtime.find({ saga: 'order', limit: 1000 }))];
      const started = Date.now();
      await Promise.all(
        orders.map((orderId) =>
          bus.publish(OrderCreated, { orderId, items: [{ sku: 's', quantity: 1 }], total: 5 }),
        ),
      );
      // Every order either finished or waits for a shipment that never comes.
      await waitFor(
        async () => {
          const sagas = await all();
          return (
            sagas.length === 200 &&
            sagas.every((saga) =>
              saga.status !== 'running'
                ? true
                : saga.step === 2 && participants.received.includes(`shipping.create ${saga.id}`),
            ) &&
            sagas.filter((saga) => saga.status === 'running').length === 20
          );
        },
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      const phaseOne = Date.now() - started;
      const transitionsOne = (await all()).reduce((sum, saga) => sum + saga.version, 0);
      clock.advance(2_001);
      await waitFor(async () => (await all()).every((saga) => saga.status !== 'running'), {
        timeoutMs: 30_000,
        intervalMs: 50,
      });
      const sagas = await all();
      for (const [i, orderId] of orders.entries()) {
        const saga = sagas.find((s) => s.id === orderId);
        if (kind(i) === 'ok')
          expect(saga, orderId).toMatchObject({ status: 'completed', version: 4 });
        if (kind(i) === 'payment')
          expect(saga, orderId).toMatchObject({
            status: 'compensated',
            failure: { step: 'charge-payment', reason: 'failed' },
          });
        if (kind(i) === 'shipping')
          expect(saga, orderId).toMatchObject({
            status: 'compensated',
            failure: { step: 'create-shipment', reason: 'timed-out' },
          });
      }
      // What the relays published: exactly the commands of each outcome, each once.
      const expected: Record<string, string[]> = {
        ok: ['inventory.reserve', 'payment.charge', 'shipping.create', 'order.confirmed'],
        payment: ['inventory.reserve', 'payment.charge', 'inventory.release', 'order.cancelled'],
        shipping: [
          'inventory.reserve',
          'payment.charge',
          'shipping.create',
          'shipping.cancel',
          'payment.refund',
          'inventory.release',
          'order.cancelled',
        ],
      };
      const published = () => publishedLog;
      await waitFor(() => published().length >= 180 * 4 + 20 * 7, { timeoutMs: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const perOrder = new Map<string, string[]>();
      for (const message of published()) {
        const key = message.message.key as string;
        perOrder.set(key, [...(perOrder.get(key) ?? []), message.type]);
      }
      for (const [i, orderId] of orders.entries()) {
        expect(perOrder.get(orderId), orderId).toEqual(expected[kind(i)]);
      }
      expect(published()).toHaveLength(180 * 4 + 20 * 7);
      // Each shipping time-out was claimed once, by one replica.
      expect(claimed).toHaveLength(20);
      expect(new Set(claimed).size).toBe(20);
      const replicaShare = nodes.map((node) => node.transport.captured.length);
      figure(
        `${backend.name}: 2 replicas, 200 orders: ${transitionsOne} transitions in ${phaseOne} ms (${Math.round((transitionsOne * 1000) / phaseOne)} transitions/s, bus+relay included), ${conflicts.count} conflicts, commands published per replica ${replicaShare.join('/')}`,
      );
    });

    it('saga-6: 1000 timers due at the same moment all fire within 2 s', async () => {
      const factory = await backend.fresh('thousand');
      const store = await factory.open({ connections: 20 });
      const clock = new VirtualClock();
      const due = clock.now() + 5_000;
      const ids = Array.from({ length: 1000 }, (_, i) => `bulk-${i}`);
      for (let i = 0; i < ids.length; i += 100) {
        await Promise.all(
          ids.slice(i, i + 100).map((id) =>
            store.create(
              {
                ...tickInstance(id),
                saga: 'order',
                data: { orderId: id, items: [], total: 1 },
                timeout: { token: `due-${id}`, dueAt: due, kind: 'reply' },
              },
              [],
            ),
          ),
        );
      }
      const claimed: string[] = [];
      const conflicts = { count: 0 };
      const [node] = await replicas(
        [observed(store, claimed, conflicts)],
        [OrderSaga as SagaDefinition<unknown>],
        clock,
        new MemoryBroker(),
        50,
      );
      const runtime = (node as Node).runtime;
      const running = async () =>
        (await runtime.find({ saga: 'order', status: 'running', limit: 1 })).length;
      expect(await running()).toBe(1);
      const started = Date.now();
      clock.advance(5_000);
      await waitFor(async () => (await running()) === 0, { timeoutMs: 10_000, intervalMs: 20 });
      const elapsed = Date.now() - started;
      expect(new Set(claimed).size).toBe(1000);
      expect(claimed).toHaveLength(1000);
      const done = await runtime.find({ saga: 'order', status: 'compensated', limit: 2000 });
      expect(done).toHaveLength(1000);
      expect(done.every((saga) => saga.failure?.reason === 'timed-out')).toBe(true);
      figure(
        `${backend.name}: 1000 timers due at once fired in ${elapsed} ms (${Math.round(1000_000 / elapsed)} timeouts/s, each a transition with 2 commands)`,
      );
      expect(elapsed).toBeLessThan(2000);
    });
  });
}
