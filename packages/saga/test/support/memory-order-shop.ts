import {
  type BusTracing,
  createBus,
  InMemoryTransport,
  type OutgoingMessage,
  type SagaTracing,
} from '@edakit/core';
import { CapturingTransport } from '@edakit/core/testing';
import {
  createSagaRuntime,
  MemorySagaStore,
  type SagaRuntime,
  type SagaRuntimeOptions,
  VirtualClock,
} from '../../src';
import { OrderSaga, subscribeParticipants } from './order-saga';

/**
 * The order saga on the memory transport and store, with its participants,
 * on a virtual clock; `stops` collects what the test's afterEach stops.
 */
export async function startMemoryOrderShop(
  stops: (() => Promise<unknown>)[],
  options: Pick<SagaRuntimeOptions, 'observer' | 'logger'> & {
    /** Traces the bus and the runtime both. */
    readonly tracing?: BusTracing & SagaTracing;
  } = {},
) {
  const clock = new VirtualClock();
  const transport = new CapturingTransport(new InMemoryTransport());
  const bus = createBus({
    transport,
    source: '/saga-test',
    retry: { immediate: 0, delayed: [20, 20] },
    ...(options.tracing === undefined ? {} : { tracing: options.tracing }),
  });
  const store = new MemorySagaStore(() => clock.now());
  const runtime: SagaRuntime = createSagaRuntime({
    bus,
    transport,
    store,
    sagas: [OrderSaga],
    clock,
    relay: { pollIntervalMs: 20 },
    ...options,
  });
  const participants = subscribeParticipants(bus);
  await runtime.start();
  await bus.start();
  stops.push(
    () => bus.stop(),
    () => runtime.stop(),
  );
  /** What the saga and the participants sent about an order (its start excluded). */
  const sent = (orderId: string): OutgoingMessage[] =>
    transport.captured.filter((m) => m.message.key === orderId && m.type !== 'order.created');
  const sentFor = (orderId: string) => sent(orderId).map((m) => m.type);
  return { clock, bus, store, runtime, participants, transport, sent, sentFor };
}
