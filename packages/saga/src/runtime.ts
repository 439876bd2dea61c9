import { randomUUID } from 'node:crypto';
import {
  type AnyEventContract,
  type Bus,
  type ConsumedEvent,
  type HandlerContext,
  InvalidOptionsError,
  type Logger,
  messageOf,
  on,
  type PreparedEvent,
  type SagaFiguresSource,
  type SagaInstanceCount,
  type SagaObserver,
  type SagaStepTrace,
  type SagaStepTraceStart,
  type SagaTracing,
  type Subscription,
  silentLogger,
} from '@edakit/core';
import { createRelay, type Publisher, type Relay, type RelayOptions } from '@edakit/outbox';
import { type Clock, systemClock } from './clock';
import type { SagaDefinition } from './definition/define-saga';
import { sagaIdOf } from './engine/correlate';
import { KeyedLock } from './engine/keyed-lock';
import { SAGA_STATUSES, type SagaInstance, traceOf } from './engine/saga-instance';
import { observeStep, stepOutcome, type TakenStep } from './engine/step-report';
import {
  applyReply,
  applyTimeout,
  type Outgoing,
  startSaga,
  type Transition,
} from './engine/transition';
import { TransitionWriter } from './engine/transition-writer';
import { SagaConflictError, UnexpectedSagaEventError, UnknownSagaVersionError } from './errors';
import {
  type InstanceCounts,
  prunesTombstones,
  type SagaQuery,
  type SagaStore,
} from './store/saga-store';

export interface SagaRuntimeOptions {
  readonly bus: Bus;
  /**
   * The transport the bus uses: the sagas' commands are published through
   * it, by the relay or, with a store that lets the runtime dispatch them
   * (Redis), right after each write.
   */
  readonly transport: Publisher;
  readonly store: SagaStore;
  /** Every version still running; the newest version of a name starts new instances. */
  readonly sagas: readonly SagaDefinition<unknown>[];
  readonly clock?: Clock;
  /** How often due timers are looked for (default 250 ms). */
  readonly timeoutPollMs?: number;
  /** How long a claimed timer is reserved before another runtime may fire it (default 30 s). */
  readonly timeoutLeaseMs?: number;
  /** Consumer group per saga; default `saga.<name>`. */
  readonly group?: (saga: string) => string;
  /**
   * Where a brand-new saga group starts reading (default: core's, `latest`).
   * `earliest` also starts sagas for start events already in the log.
   */
  readonly startFrom?: 'latest' | 'earliest';
  /**
   * Events of each saga's subscription handled at once (default 64; one saga
   * id at a time regardless). Each waits for a store round trip, so more in
   * flight means fuller store batches and fewer idle round trips.
   */
  readonly concurrency?: number;
  /** Options of the relay that publishes commands (store, transport and wake-up are set). */
  readonly relay?: Omit<RelayOptions, 'store' | 'transport' | 'wakeOn'>;
  /**
   * How often finished instances older than the store's tombstone TTL are
   * deleted, with a store that keeps them until then (PostgreSQL; Redis
   * expires its own). Default 1 hour; 0 turns it off.
   */
  readonly tombstonePruneIntervalMs?: number;
  /**
   * Running instances this runtime remembers as it last stored them, to skip
   * the load before their next transition (default 10,000; 0 turns it off).
   * Used with stores that report what they stored (Redis). A stale entry
   * costs one failed compare-and-set, then a load.
   */
  readonly instanceCacheSize?: number;
  /**
   * Told when an instance starts or finishes and when a timer fires (more
   * with `runtime.observe`). `prometheusMetrics({ sagas: [runtime] })` from
   * `@edakit/core/prometheus` attaches its own.
   */
  readonly observer?: SagaObserver;
  /**
   * Records each saga step as a span of its own (`openTelemetry()` from
   * `@edakit/core/opentelemetry`, the same object a bus takes). Without it
   * trace context still flows: commands carry the trace of the event that
   * caused them, and a timer's of the step that set it.
   */
  readonly tracing?: SagaTracing;
  readonly logger?: Logger;
}

export interface SagaRuntime extends SagaFiguresSource {
  /** Subscribes the sagas (start the bus after, or it starts them if running) and starts the relay and timers. */
  start(): Promise<void>;
  stop(): Promise<void>;
  get<D = unknown>(saga: string, id: string): Promise<SagaInstance<D> | undefined>;
  find(query: SagaQuery): Promise<SagaInstance[]>;
  /**
   * Instances of each saga this runtime runs, by status, as the store holds
   * them (finished ones until their tombstones go): what
   * `prometheusMetrics({ sagas: [runtime] })` reads at scrape time.
   */
  instanceCounts(): Promise<SagaInstanceCount[]>;
  /** Attaches an observer (see the `observer` option); returns the function that detaches it. */
  observe(observer: SagaObserver): () => void;
  /** Fires due timers now (the poll does it anyway). Resolves when they were handled. */
  fireDueTimeouts(): Promise<number>;
  readonly relay: Relay;
}

const MAX_ATTEMPTS = 25;
/** Timers claimed and fired at once. */
const TIMEOUT_BATCH = 500;
/** Instances whose leased commands one sweep moves to the outbox. */
const SWEEP_BATCH = 500;
/** Tombstones one prune statement deletes; a prune runs statements while they come back full. */
const PRUNE_BATCH = 5000;

/** Both fields of a W3C trace context, each possibly absent. */
interface TraceContext {
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
}

const contextOf = (from: {
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}): TraceContext => ({ traceparent: from.traceparent, tracestate: from.tracestate });

export function createSagaRuntime(options: SagaRuntimeOptions): SagaRuntime {
  const { bus, store } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const leaseMs = options.timeoutLeaseMs ?? 30_000;
  const pollMs = options.timeoutPollMs ?? 250;
  const groupOf = options.group ?? ((name: string) => `saga.${name}`);
  const pruneEveryMs = options.tombstonePruneIntervalMs ?? 3_600_000;
  if (!Number.isInteger(pruneEveryMs) || pruneEveryMs < 0) {
    throw new InvalidOptionsError(
      `tombstonePruneIntervalMs must be an integer >= 0, got ${pruneEveryMs}`,
      { option: 'tombstonePruneIntervalMs', value: pruneEveryMs },
    );
  }
  const cacheSize = options.instanceCacheSize ?? 10_000;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) {
    throw new InvalidOptionsError(`instanceCacheSize must be an integer >= 0, got ${cacheSize}`, {
      option: 'instanceCacheSize',
      value: cacheSize,
    });
  }
  const writer = new TransitionWriter(store, options.transport, logger, cacheSize);
  const { tracing } = options;
  const observers = new Set<SagaObserver>(options.observer ? [options.observer] : []);
  /** Runs a step in its span when tracing is on; `trace` is undefined otherwise. */
  const traced = <T>(
    start: SagaStepTraceStart,
    run: (trace: SagaStepTrace | undefined) => Promise<T>,
  ): Promise<T> => (tracing === undefined ? run(undefined) : tracing.sagaStep(start, run));
  const lock = new KeyedLock();
  const byName = new Map<string, Map<number, SagaDefinition<unknown>>>();
  for (const definition of options.sagas) {
    const versions = byName.get(definition.name) ?? new Map<number, SagaDefinition<unknown>>();
    versions.set(definition.version, definition);
    byName.set(definition.name, versions);
  }
  // The version that starts new instances, per name: computed once, read per event.
  const newestByName = new Map<string, SagaDefinition<unknown>>();
  for (const [name, versions] of byName) {
    const [latest] = [...versions.values()].sort((a, b) => b.version - a.version);
    if (latest) newestByName.set(name, latest);
  }
  const newest = (name: string) => newestByName.get(name) as SagaDefinition<unknown>;
  const relay = createRelay({
    ...options.relay,
    store: store.outbox,
    transport: options.transport,
    wakeOn: [store.commits],
  });
  const subscriptions: Subscription[] = [];
  let timer: NodeJS.Timeout | undefined;
  let offAdvance: (() => void) | undefined;
  let firing: Promise<number> | undefined;
  let sweeping: Promise<number> | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  let pruning: Promise<number> | undefined;

  const definitionFor = (instance: SagaInstance): SagaDefinition<unknown> => {
    const definition = byName.get(instance.saga)?.get(instance.definitionVersion);
    if (definition === undefined) {
      throw new UnknownSagaVersionError({
        saga: instance.saga,
        sagaId: instance.id,
        definitionVersion: instance.definitionVersion,
        registered: [...(byName.get(instance.saga)?.keys() ?? [])].join(', '),
      });
    }
    return definition;
  };

  /** Builds the messages of a transition; the store writes them with the state. */
  const prepare = (
    definition: SagaDefinition<unknown>,
    instance: SagaInstance,
    sends: readonly Outgoing<unknown>[],
    cause: string | undefined,
  ): PreparedEvent[] =>
    sends.map(({ spec, step }) => {
      const ref = { saga: instance.saga, id: instance.id };
      return bus.prepare(spec.contract, spec.data(instance.data, ref) as never, {
        // The step's trace (a traced bus prefers the active span, the step's own).
        ...traceOf(instance.traceparent, instance.tracestate),
        ...spec.options?.(instance.data, ref),
        // Replies come back with this correlation id: it is the saga id.
        correlationId: instance.id,
        ...(cause === undefined ? {} : { causationId: cause }),
        // The participant's idempotency key: stable across re-sends of one step.
        ...(step === undefined ? {} : { subject: `${definition.name}/${instance.id}/${step}` }),
      });
    });

  /**
   * load -> transition -> compare-and-set, retried while another writer wins.
   * The load is skipped when this runtime knows the instance (it stored it
   * last), or assumes it absent (`start`: the event starts sagas); a guess
   * that turns out wrong costs a failed write or a second look, then a load.
   */
  const transact = async (
    name: string,
    id: string,
    describe: Record<string, unknown>,
    decide: (
      instance: SagaInstance | undefined,
    ) => { definition: SagaDefinition<unknown>; transition: Transition<unknown> } | undefined,
    step: {
      /** The event that caused the step, for the commands' causation id. */
      readonly cause: string | undefined;
      /** Whether the event starts sagas: the instance is assumed absent. */
      readonly start: boolean;
      /**
       * The trace context the stored instance and its commands get, both
       * fields replaced (undefined clears one); undefined keeps the stored one.
       */
      readonly trace: TraceContext | undefined;
      /** The instance as just loaded from the store, to use instead of a first load. */
      readonly loaded?: SagaInstance | undefined;
    },
  ): Promise<TakenStep | undefined> => {
    const key = `${name}\u0000${id}`;
    const known = writer.known(key);
    let loaded = step.loaded;
    let guess: { readonly instance: SagaInstance | undefined } | undefined =
      known !== undefined ? { instance: known } : step.start ? { instance: undefined } : undefined;
    try {
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; ) {
        const guessed = guess !== undefined;
        const current =
          guess !== undefined ? guess.instance : (loaded ?? (await store.load(name, id)));
        guess = undefined;
        loaded = undefined;
        const decision = decide(current);
        // Nothing to write: only the stored instance may say so.
        if (decision === undefined || decision.transition.kind !== 'applied') {
          if (guessed) continue;
          return decision === undefined ? undefined : { ...decision, current };
        }
        const { definition, transition } = decision;
        const instance = {
          ...transition.instance,
          ...(current === undefined ? {} : { version: current.version + 1 }),
          ...step.trace,
        };
        const sends = prepare(definition, instance, transition.sends, step.cause);
        if (await writer.write(key, current, instance, sends)) {
          return { definition, current, transition };
        }
        writer.forget(key);
        if (!guessed) attempt++;
      }
    } catch (error) {
      // The store may or may not have the write: know nothing about it.
      writer.forget(key);
      throw error;
    }
    throw new SagaConflictError({ saga: name, sagaId: id, attempts: MAX_ATTEMPTS, ...describe });
  };

  const handleEvent = async (
    name: string,
    event: ConsumedEvent<AnyEventContract>,
    context: HandlerContext,
  ): Promise<void> => {
    const starter = newest(name);
    const id = sagaIdOf(starter, event);
    const describe = { eventType: event.type, eventId: event.id };
    const start: SagaStepTraceStart = {
      saga: name,
      sagaId: id,
      trigger: 'event',
      eventType: event.type,
      eventId: event.id,
      traceparent: event.traceparent,
      tracestate: event.tracestate,
    };
    await lock.run(`${name}\u0000${id}`, () =>
      traced(start, async (trace) => {
        const taken = await transact(
          name,
          id,
          describe,
          (instance) => {
            const input = { now: clock.now(), token: randomUUID() };
            if (instance === undefined) {
              if (event.type !== starter.start.contract.type) {
                return {
                  definition: starter,
                  transition: { kind: 'unexpected', reason: 'no saga with this id' },
                };
              }
              return { definition: starter, transition: startSaga(starter, id, event, input) };
            }
            const definition = definitionFor(instance);
            return { definition, transition: applyReply(definition, instance, event, input) };
          },
          {
            cause: event.id,
            start: event.type === starter.start.contract.type,
            // Traced: the step's span; else the event's own trace context, or none.
            trace: contextOf(trace ?? event),
          },
        );
        trace?.record(stepOutcome(taken));
        if (observers.size > 0) observeStep(observers, taken, 'event', logger);
        const transition = taken?.transition;
        if (transition?.kind === 'unexpected') {
          const instance = await store.load(name, id);
          const details = {
            saga: name,
            sagaId: id,
            status: instance?.status ?? 'absent',
            step: instance === undefined ? undefined : starter.steps[instance.step]?.name,
            ...describe,
            reason: transition.reason,
          };
          const policy = (instance ? definitionFor(instance) : starter).settings.unexpected;
          if (policy === 'ignore') {
            context.logger.warn(details, 'saga ignored an event its state does not expect');
            return;
          }
          throw new UnexpectedSagaEventError(details, policy === 'retry');
        }
      }),
    );
  };

  const fireOne = async (saga: string, id: string, token: string): Promise<void> => {
    const key = `${saga}\u0000${id}`;
    await lock.run(key, async () => {
      // The trace a timer continues is the one of the step that set it: the
      // instance keeps it, so a traced runtime reads the instance first.
      const known = tracing === undefined ? undefined : writer.known(key);
      const loaded =
        tracing === undefined || known !== undefined ? undefined : await store.load(saga, id);
      const stored = known ?? loaded;
      const start: SagaStepTraceStart = {
        saga,
        sagaId: id,
        trigger: 'timeout',
        eventId: token,
        traceparent: stored?.traceparent,
        tracestate: stored?.tracestate,
      };
      await traced(start, async (trace) => {
        const taken = await transact(
          saga,
          id,
          { eventType: 'timeout', eventId: token },
          (instance) => {
            if (instance === undefined) return undefined;
            const definition = definitionFor(instance);
            const input = { now: clock.now(), token: randomUUID() };
            return { definition, transition: applyTimeout(definition, instance, token, input) };
          },
          {
            cause: undefined,
            start: false,
            // Untraced, the timer's commands keep the context of the step that set it.
            trace: trace === undefined ? undefined : contextOf(trace),
            loaded,
          },
        );
        trace?.record(stepOutcome(taken));
        if (observers.size > 0) observeStep(observers, taken, 'timeout', logger);
      });
    });
  };

  /** Claims due timers (at most TIMEOUT_BATCH); `fired` resolves when they were handled. */
  const claimAndFire = async (): Promise<{ claimed: number; fired: Promise<void> }> => {
    const due = await store.claimDueTimeouts(clock.now(), TIMEOUT_BATCH, leaseMs);
    // Each timer on its own: one that fails waits for its lease to run out
    // and fires again, without holding up the others.
    const fired = Promise.allSettled(due.map((t) => fireOne(t.saga, t.id, t.token))).then(
      (results) => {
        results.forEach((result, index) => {
          if (result.status === 'rejected') {
            const t = due[index];
            logger.error(
              { saga: t?.saga, sagaId: t?.id, error: messageOf(result.reason) },
              'saga timeout failed; it fires again after its lease',
            );
          }
        });
      },
    );
    return { claimed: due.length, fired };
  };

  const fireDueTimeouts = async (): Promise<number> => {
    const { claimed, fired } = await claimAndFire();
    await fired;
    return claimed;
  };

  /**
   * A full batch means more may be due: keep going instead of waiting for the
   * next tick, claiming the next batch while the last one fires (at most two
   * batches in flight), so the store works on one while the other is decided.
   */
  const fireUntilCaughtUp = async (): Promise<number> => {
    let total = 0;
    let previous: Promise<void> = Promise.resolve();
    try {
      for (;;) {
        const { claimed, fired } = await claimAndFire();
        total += claimed;
        await previous;
        previous = fired;
        if (claimed < TIMEOUT_BATCH) return total;
      }
    } finally {
      await previous;
    }
  };

  /** Leased commands whose writer never settled them (it died) go to the outbox. */
  const sweep = () => {
    if (sweeping) return;
    sweeping = writer
      .sweep(SWEEP_BATCH)
      .catch((error: unknown) => {
        logger.error({ error: messageOf(error) }, 'saga command sweep failed');
        return 0;
      })
      .finally(() => {
        sweeping = undefined;
      });
  };

  /** Deletes tombstones past the store's TTL, a batch at a time while batches come back full. */
  const prune = () => {
    if (pruning || !prunesTombstones(store)) return;
    const pruner = store;
    pruning = (async () => {
      let total = 0;
      for (let round = 0; round < 100; round++) {
        const deleted = await pruner.pruneTombstones(clock.now(), PRUNE_BATCH);
        total += deleted;
        if (deleted < PRUNE_BATCH) break;
      }
      return total;
    })()
      .catch((error: unknown) => {
        logger.warn({ error: messageOf(error) }, 'saga tombstone prune failed; retried later');
        return 0;
      })
      .finally(() => {
        pruning = undefined;
      });
  };

  const poll = () => {
    sweep();
    if (firing) return;
    firing = fireUntilCaughtUp()
      .catch((error: unknown) => {
        logger.error({ error: messageOf(error) }, 'saga timeout poll failed');
        return 0;
      })
      .finally(() => {
        firing = undefined;
      });
  };

  return {
    relay,
    async start() {
      for (const name of byName.keys()) {
        const contracts = new Map<string, AnyEventContract>();
        for (const definition of byName.get(name)?.values() ?? []) {
          for (const contract of definition.consumes) contracts.set(contract.type, contract);
        }
        subscriptions.push(
          bus.subscribe({
            group: groupOf(name),
            concurrency: options.concurrency ?? 64,
            ...(options.startFrom === undefined ? {} : { startFrom: options.startFrom }),
            handlers: [...contracts.values()].map((contract) =>
              on(contract, (event, context) => handleEvent(name, event, context), {
                name: `${name}/${contract.type}`,
              }),
            ),
          }),
        );
      }
      relay.start();
      timer = setInterval(poll, pollMs);
      timer.unref();
      offAdvance = clock.onAdvance?.(poll);
      if (pruneEveryMs > 0 && prunesTombstones(store)) {
        pruneTimer = setInterval(prune, pruneEveryMs);
        pruneTimer.unref();
      }
    },
    async stop() {
      clearInterval(timer);
      clearInterval(pruneTimer);
      offAdvance?.();
      await firing;
      await sweeping;
      await pruning;
      await writer.settled();
      await relay.stop();
    },
    get: (saga, id) => store.load(saga, id) as never,
    find: (query) => store.find(query),
    observe(observer) {
      observers.add(observer);
      return () => {
        observers.delete(observer);
      };
    },
    async instanceCounts() {
      const names = [...byName.keys()];
      const counts = await Promise.all(names.map((name) => store.countInstances(name)));
      return names.flatMap((saga, index) => {
        const byStatus = counts[index] as InstanceCounts;
        return SAGA_STATUSES.map((status) => ({
          saga,
          status,
          count: byStatus[status],
        }));
      });
    },
    async fireDueTimeouts() {
      await firing;
      return fireDueTimeouts();
    },
  };
}
