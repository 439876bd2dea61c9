import type { BusOptions } from '../bus/bus-options';
import { type Bus, createBus } from '../bus/create-bus';
import { parseWireMessage, toEnvelope } from '../codec/decode';
import type { AnyEventContract } from '../contract/event-contract';
import type { ConsumedEvent } from '../handler/handler';
import { InMemoryTransport } from '../memory/in-memory-transport';
import { MemoryBroker } from '../memory/memory-broker';
import type { DeadLetter } from '../transport/dead-letter-admin';
import { CapturingTransport } from './capturing-transport';
import { type WaitOptions, waitFor } from './wait-for';

export interface TestHarnessOptions extends Omit<Partial<BusOptions>, 'transport'> {}

export interface TestHarness {
  /** A real bus on the in-memory transport. */
  readonly bus: Bus;
  readonly transport: InMemoryTransport;
  /** Events of `contract` published so far, decoded as that contract reads them. */
  published<C extends AnyEventContract>(contract: C): ConsumedEvent<C>[];
  /** Waits for a published event of `contract` that matches `predicate`. */
  waitForPublished<C extends AnyEventContract>(
    contract: C,
    predicate?: (event: ConsumedEvent<C>) => boolean,
    options?: WaitOptions,
  ): Promise<ConsumedEvent<C>>;
  /** Waits until no group has queued or running work (delayed retries not due yet aside). */
  idle(options?: WaitOptions): Promise<void>;
  deadLetters(group: string): Promise<DeadLetter[]>;
  /** Forgets what was captured so far. */
  clear(): void;
  stop(): Promise<void>;
}

/**
 * Everything needed to test a service's handlers in-process: a started bus,
 * a record of what was published, waits, and the dead-letter queue.
 *
 * @example
 * const harness = await createTestHarness();
 * harness.bus.subscribe({ group: 'billing', handlers: [on(OrderCreated, charge)] });
 * await harness.bus.start();
 * await harness.bus.publish(OrderCreated, order);
 * const charged = await harness.waitForPublished(PaymentProcessed, (e) => e.data.orderId === order.orderId);
 */
export function createTestHarness(options: TestHarnessOptions = {}): TestHarness {
  const transport = new InMemoryTransport({ broker: new MemoryBroker() });
  const capturing = new CapturingTransport(transport);
  const bus = createBus({ source: '/test', ...options, transport: capturing });

  const published = <C extends AnyEventContract>(contract: C): ConsumedEvent<C>[] =>
    capturing.captured
      .filter((outgoing) => outgoing.type === contract.type)
      .map((outgoing) =>
        toEnvelope(
          parseWireMessage(outgoing.message, { naming: capturing.headerNaming }),
          contract,
        ),
      );

  return {
    bus,
    transport,
    published,
    waitForPublished(contract, predicate = () => true, waitOptions = {}) {
      return waitFor(() => published(contract).find(predicate), {
        description: `a published "${contract.type}" event`,
        ...waitOptions,
      });
    },
    async idle(waitOptions = {}) {
      await waitFor(
        () =>
          Object.values(transport.broker.stats()).every(
            (group) => group.queued === 0 && group.inFlight === 0,
          ),
        { description: 'every group to be idle', ...waitOptions },
      );
    },
    deadLetters: (group) => transport.listDeadLetters({ group }),
    clear() {
      capturing.captured.length = 0;
    },
    stop: () => bus.stop(),
  };
}
