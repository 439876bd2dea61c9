import { encodeEnvelope } from '../codec/encode';
import { resolveContentMode } from '../codec/wire-message';
import type { AnyEventContract, EventData, EventInput } from '../contract/event-contract';
import { ContractRegistry } from '../contract/registry';
import { validate } from '../contract/validate';
import { createEnvelope } from '../envelope/create-envelope';
import type { EventEnvelope, PublishOptions } from '../envelope/event-envelope';
import { EdakitError } from '../errors/edakit-error';
import { PublishError } from '../errors/handling-errors';
import { InvalidOptionsError, InvalidStateError } from '../errors/usage-errors';
import type { ContextPublish } from '../handler/handler';
import { silentLogger } from '../logging/logger';
import type { Middleware } from '../middleware/middleware';
import type { BusObserver } from '../observability/bus-observer';
import type { BusTracing, PublishTrace } from '../observability/bus-tracing';
import { ObserverSet } from '../observability/observer-set';
import type { OutgoingMessage, TransportHealth } from '../transport/transport';
import type { BusOptions, StopOptions, SubscribeOptions } from './bus-options';
import { Subscription } from './subscription';

/** An event validated and encoded, ready to publish (alone or in a batch). */
export interface PreparedEvent<C extends AnyEventContract = AnyEventContract> {
  readonly envelope: EventEnvelope<EventData<C>, C['type']>;
  readonly outgoing: OutgoingMessage;
}

export interface BusHealth {
  readonly status: TransportHealth['status'];
  readonly state: BusState;
  /** The transport's `name`: kafka, rabbitmq, memory. */
  readonly transportName: string;
  readonly transport: TransportHealth;
  readonly subscriptions: ReadonlyArray<{
    readonly group: string;
    readonly inFlight: number;
    readonly running: boolean;
  }>;
}

export type BusState = 'idle' | 'starting' | 'started' | 'stopping' | 'stopped';

export interface Bus {
  readonly source: string;
  readonly registry: ContractRegistry;
  readonly state: BusState;
  /** Connects the transport and starts every subscription. */
  start(): Promise<void>;
  /**
   * Stops consuming: running handlers get until the deadline, then their signal
   * aborts and their events are left unacknowledged for redelivery.
   */
  stop(options?: StopOptions): Promise<void>;
  /** Validates, wraps and publishes; resolves once the transport confirmed. */
  publish<C extends AnyEventContract>(
    contract: C,
    data: EventInput<C>,
    options?: PublishOptions,
  ): Promise<EventEnvelope<EventData<C>, C['type']>>;
  /** Validates and encodes without sending: for batches and the outbox. */
  prepare<C extends AnyEventContract>(
    contract: C,
    data: EventInput<C>,
    options?: PublishOptions,
  ): PreparedEvent<C>;
  /** Publishes prepared events in one transport call; all confirmed or it rejects. */
  publishBatch(events: readonly PreparedEvent[]): Promise<EventEnvelope[]>;
  /** Adds a consumer group; it starts with the bus (or now, if the bus runs). */
  subscribe(options: SubscribeOptions): Subscription;
  health(): Promise<BusHealth>;
  /**
   * Attaches an observer (metrics, tracing) to publishes, handler attempts,
   * retries and dead letters; returns the function that detaches it.
   */
  observe(observer: BusObserver): () => void;
}

/**
 * Creates a bus over a transport.
 *
 * @example
 * const bus = createBus({ transport: new InMemoryTransport(), source: '/services/orders' });
 * bus.subscribe({ group: 'billing', handlers: [on(OrderCreated, charge)] });
 * await bus.start();
 * await bus.publish(OrderCreated, { orderId: 'o-1', total: 42 });
 */
export function createBus(options: BusOptions): Bus {
  const { transport } = options;
  if (!transport || typeof transport.publish !== 'function') {
    throw new InvalidOptionsError('createBus needs a transport');
  }
  if (typeof options.source !== 'string' || options.source.trim() === '') {
    throw new InvalidOptionsError('createBus needs a non-empty source, e.g. "/services/orders"');
  }
  assertLimit('maxMessageBytes', options.maxMessageBytes, 1);
  assertLimit('stopDeadlineMs', options.stopDeadlineMs, 0);
  // Checked here, not at the first publish: a transport with a wrong mode fails at startup.
  const contentMode = resolveContentMode(transport.contentMode, `Transport "${transport.name}"`);
  const registry = new ContractRegistry(options.contracts);
  const logger = options.logger ?? silentLogger;
  const subscriptions: Subscription[] = [];
  const observers = new ObserverSet();
  const { tracing } = options;
  const busMiddleware = tracingFirst(tracing, transport.name, options.middleware ?? []);
  let state: BusState = 'idle';
  let connecting: Promise<void> | undefined;
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  const connect = (): Promise<void> => {
    connecting ??= transport.connect().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    });
    return connecting;
  };

  const assertOpen = (action: string): void => {
    if (state === 'stopped') throw new InvalidStateError(`Cannot ${action}: the bus is stopped`);
  };

  /** Wraps valid data in an envelope and encodes it for the transport. */
  const encode = <C extends AnyEventContract>(
    contract: C,
    data: EventData<C>,
    publishOptions: PublishOptions | undefined,
  ): PreparedEvent<C> => {
    const envelope = createEnvelope(contract, data, options.source, publishOptions);
    const message = encodeEnvelope(envelope, {
      naming: transport.headerNaming,
      maxBytes: options.maxMessageBytes,
      contentMode,
    });
    return { envelope, outgoing: { channel: contract.channel, type: contract.type, message } };
  };

  /** The trace of one event (tracing is on): its context goes into the envelope. */
  const startTrace = (
    tracer: BusTracing,
    operation: 'create' | 'send',
    contract: AnyEventContract,
    publishOptions: PublishOptions | undefined,
  ): { trace: PublishTrace; traced: PublishOptions } => {
    const trace = tracer.startPublish({
      operation,
      type: contract.type,
      channel: contract.channel,
      transport: transport.name,
      traceparent: publishOptions?.traceparent,
      tracestate: publishOptions?.tracestate,
    });
    return {
      trace,
      traced: { ...publishOptions, traceparent: trace.traceparent, tracestate: trace.tracestate },
    };
  };

  const prepare = <C extends AnyEventContract>(
    contract: C,
    data: EventInput<C>,
    publishOptions?: PublishOptions,
  ): PreparedEvent<C> => {
    registry.add(contract);
    const valid = validate(contract, data);
    if (tracing === undefined) return encode(contract, valid, publishOptions);
    const { trace, traced } = startTrace(tracing, 'create', contract, publishOptions);
    let prepared: PreparedEvent<C>;
    try {
      prepared = encode(contract, valid, traced);
    } catch (error) {
      trace.end(undefined, error);
      throw error;
    }
    trace.end(prepared.envelope);
    return prepared;
  };

  /** Sends prepared events in one transport call, observed; the bus is open and `events` not empty. */
  const send = async (events: readonly PreparedEvent[]): Promise<EventEnvelope[]> => {
    const observed = observers.active;
    const startedAt = observed ? performance.now() : 0;
    try {
      // Inside the try: a transport that cannot connect (down, bad credentials)
      // fails the publish with the same typed error as a refused publish.
      await connect();
      await transport.publish(events.map((event) => event.outgoing));
    } catch (error) {
      if (observed) {
        observers.publish({
          events: events.map((event) => event.envelope),
          durationMs: performance.now() - startedAt,
          error,
        });
      }
      if (EdakitError.isInstance(error)) throw error;
      const first = events[0]?.envelope;
      throw new PublishError(
        `Transport "${transport.name}" failed to publish ${events.length} event(s): ${(error as Error)?.message ?? String(error)}`,
        {
          cause: error,
          context: {
            eventType: first?.type,
            eventId: first?.id,
            channel: events[0]?.outgoing.channel,
            count: events.length,
          },
        },
      );
    }
    const envelopes = events.map((event) => event.envelope);
    if (observed) {
      observers.publish({ events: envelopes, durationMs: performance.now() - startedAt });
    }
    return envelopes;
  };

  const publishBatch = async (events: readonly PreparedEvent[]): Promise<EventEnvelope[]> => {
    assertOpen('publish');
    if (events.length === 0) return [];
    if (tracing === undefined) return send(events);
    const trace = tracing.startBatch({
      events: events.map((event) => event.envelope),
      channels: [...new Set(events.map((event) => event.outgoing.channel))],
      transport: transport.name,
    });
    try {
      const envelopes = await send(events);
      trace.end();
      return envelopes;
    } catch (error) {
      trace.end(error);
      throw error;
    }
  };

  const publish = async <C extends AnyEventContract>(
    contract: C,
    data: EventInput<C>,
    publishOptions?: PublishOptions,
  ): Promise<EventEnvelope<EventData<C>, C['type']>> => {
    assertOpen('publish');
    if (tracing === undefined) {
      const prepared = prepare(contract, data, publishOptions);
      await send([prepared]);
      return prepared.envelope;
    }
    registry.add(contract);
    const valid = validate(contract, data);
    const { trace, traced } = startTrace(tracing, 'send', contract, publishOptions);
    let prepared: PreparedEvent<C> | undefined;
    try {
      prepared = encode(contract, valid, traced);
      await send([prepared]);
    } catch (error) {
      trace.end(prepared?.envelope, error);
      throw error;
    }
    trace.end(prepared.envelope);
    return prepared.envelope;
  };

  const publishFrom =
    (event: EventEnvelope): ContextPublish =>
    (contract, data, publishOptions) =>
      publish(contract, data, {
        correlationId: event.correlationid,
        causationId: event.id,
        traceparent: event.traceparent,
        tracestate: event.tracestate,
        ...publishOptions,
      });

  const bus: Bus = {
    source: options.source,
    registry,
    get state() {
      return state;
    },
    start() {
      if (state === 'started') return Promise.resolve();
      if (state === 'stopping' || state === 'stopped') {
        return Promise.reject(new InvalidStateError(`Cannot start: the bus is ${state}`));
      }
      starting ??= (async () => {
        state = 'starting';
        try {
          await connect();
          await Promise.all(subscriptions.map((subscription) => subscription.start()));
          // stop() may have been called while we waited: it owns the state now.
          if (state === 'starting') state = 'started';
        } catch (error) {
          if (state === 'starting') state = 'idle';
          throw error;
        } finally {
          starting = undefined;
        }
      })();
      return starting;
    },
    stop(stopOptions = {}) {
      if (state === 'stopped') return Promise.resolve();
      stopping ??= (async () => {
        const inProgress = starting;
        state = 'stopping';
        // A start in progress finishes (or fails) first, so no consumer joins after we stopped.
        await inProgress?.catch(() => undefined);
        const deadlineMs = stopOptions.deadlineMs ?? options.stopDeadlineMs ?? 10_000;
        const results = await Promise.allSettled(
          subscriptions.map((subscription) => subscription.stop(deadlineMs)),
        );
        state = 'stopped';
        if (options.closeTransportOnStop ?? true) await transport.close();
        const failed = results.find((result) => result.status === 'rejected');
        if (failed) throw failed.reason;
      })();
      return stopping;
    },
    publish,
    prepare,
    publishBatch,
    subscribe(subscribeOptions) {
      assertOpen('subscribe');
      if (state === 'stopping')
        throw new InvalidStateError('Cannot subscribe: the bus is stopping');
      if (subscriptions.some((existing) => existing.group === subscribeOptions.group)) {
        throw new InvalidOptionsError(
          `This bus already has a subscription for group "${subscribeOptions.group}"; put all its handlers in one subscribe()`,
          { group: subscribeOptions.group },
        );
      }
      const subscription = new Subscription(subscribeOptions, {
        transport,
        registry,
        logger,
        busMiddleware,
        defaultRetry: options.retry,
        maxMessageBytes: options.maxMessageBytes,
        publishFrom,
        observers,
        // Stopped on its own while the bus runs (a read model replaced by its rebuild): it is
        // gone, not failed, so health no longer counts it and its group may be subscribed again.
        stopped: (stopped) => {
          if (state === 'stopping' || state === 'stopped') return;
          const index = subscriptions.indexOf(stopped);
          if (index >= 0) subscriptions.splice(index, 1);
        },
      });
      subscriptions.push(subscription);
      if (state === 'started' || state === 'starting') {
        subscription.start().catch((error: unknown) => {
          logger.error({ group: subscription.group, error }, 'subscription failed to start');
        });
      }
      return subscription;
    },
    async health() {
      const transportHealth = await transport.health();
      const subscriptionStates = subscriptions.map((subscription) => ({
        group: subscription.group,
        inFlight: subscription.inFlight,
        running: subscription.running,
      }));
      let status: TransportHealth['status'] = transportHealth.status;
      if (state !== 'started') status = 'down';
      else if (
        status === 'up' &&
        subscriptionStates.some((subscription) => !subscription.running)
      ) {
        status = 'degraded';
      }
      return {
        status,
        state,
        transportName: transport.name,
        transport: transportHealth,
        subscriptions: subscriptionStates,
      };
    },
    observe(observer) {
      return observers.add(observer);
    },
  };
  return bus;
}

/** The bus's middleware, behind the tracer's span when tracing is on (outermost: it times them all). */
function tracingFirst(
  tracing: BusTracing | undefined,
  transportName: string,
  middleware: readonly Middleware[],
): readonly Middleware[] {
  if (tracing === undefined) return middleware;
  const traced: Middleware = (event, context, next) =>
    tracing.handle({ event, context, transport: transportName }, next);
  return [traced, ...middleware];
}

function assertLimit(name: string, value: number | undefined, minimum: number): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= minimum)) {
    throw new InvalidOptionsError(`${name} must be a number >= ${minimum}, got ${String(value)}`);
  }
}
