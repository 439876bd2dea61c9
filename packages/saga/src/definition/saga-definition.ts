import type { AnyEventContract, ConsumedEvent, EventInput, PublishOptions } from '@edakit/core';

/** A command (or event) the saga sends, built from its data. */
export interface SendSpec<D> {
  readonly contract: AnyEventContract;
  // Method syntax on purpose: a runtime holds sagas of different data types in
  // one list; `send()` still checks the builder against its contract strictly.
  data(data: D, saga: SagaRef): unknown;
  options?(data: D, saga: SagaRef): PublishOptions;
}

/** A reply the saga waits for. */
export interface ReplySpec<D> {
  readonly contract: AnyEventContract;
  /** Saga id of a reply; default: its `correlationid` (what `ctx.publish` carries forward). */
  readonly correlate?: (event: ConsumedEvent<AnyEventContract>) => string;
  /** New saga data after this reply; default: unchanged. */
  update?(data: D, event: ConsumedEvent<AnyEventContract>): D;
}

/** Who a command is for: the saga's name and id. */
export interface SagaRef {
  readonly saga: string;
  readonly id: string;
}

export interface StepDefinition<D> {
  readonly name: string;
  /** Sent when the step starts (and again on each retry of a step after the pivot). */
  readonly command: SendSpec<D>;
  readonly success: ReplySpec<D>;
  /** A failure reply; a step without one can still fail by timing out. */
  readonly failure?: ReplySpec<D> | undefined;
  /** How long to wait for a reply (default: the saga's `stepTimeoutMs`). */
  readonly timeoutMs?: number | undefined;
  /** Undoes this step; sent in reverse order of completion when the saga compensates. */
  readonly compensation?: SendSpec<D> | undefined;
  /**
   * The point of no return: a failure at or before the pivot compensates;
   * steps after it are retried until they succeed and are never compensated.
   */
  readonly pivot?: boolean | undefined;
}

/** What to do with an event the saga's current state does not expect. */
export type UnexpectedEventPolicy = 'ignore' | 'retry' | 'fail';

export interface SagaStart<D> {
  readonly contract: AnyEventContract;
  /** The saga id: one instance per id, whatever the number of start events. */
  readonly correlate: (event: ConsumedEvent<AnyEventContract>) => string;
  readonly data: (event: ConsumedEvent<AnyEventContract>) => D;
}

export interface SagaSettings {
  /** Reply timeout of steps that set none (default 30 s). */
  readonly stepTimeoutMs: number;
  /** First delay before re-sending a failed step after the pivot; doubles per attempt, capped at 1 min (default 1 s). */
  readonly retryDelayMs: number;
  /**
   * An event the current state does not expect (a late reply, a reply for a
   * finished saga): `ignore` (logged, acknowledged; the default), `retry`
   * (redelivered later: for replies that may overtake their state) or `fail`
   * (to the dead-letter queue).
   */
  readonly unexpected: UnexpectedEventPolicy;
}

/** Typed constructor of a `SendSpec`: the data builder is checked against the contract. */
export function send<C extends AnyEventContract, D>(
  contract: C,
  data: (data: D, saga: SagaRef) => EventInput<C>,
  options?: (data: D, saga: SagaRef) => PublishOptions,
): SendSpec<D> {
  return { contract, data, ...(options === undefined ? {} : { options }) };
}

/** Typed constructor of a `ReplySpec`: `correlate` and `update` see the reply's own data. */
export function reply<C extends AnyEventContract, D>(
  contract: C,
  options: {
    readonly correlate?: (event: ConsumedEvent<C>) => string;
    readonly update?: (data: D, event: ConsumedEvent<C>) => D;
  } = {},
): ReplySpec<D> {
  return {
    contract,
    ...(options.correlate === undefined
      ? {}
      : { correlate: options.correlate as (event: ConsumedEvent<AnyEventContract>) => string }),
    ...(options.update === undefined
      ? {}
      : { update: options.update as (data: D, event: ConsumedEvent<AnyEventContract>) => D }),
  };
}
