import { type AnyEventContract, type ConsumedEvent, InvalidOptionsError } from '@edakit/core';
import type {
  ReplySpec,
  SagaSettings,
  SagaStart,
  SendSpec,
  StepDefinition,
  UnexpectedEventPolicy,
} from './saga-definition';

/** What `.step()` takes: everything of a step but its name. */
export type StepOptions<D> = Omit<StepDefinition<D>, 'name'>;

/**
 * An orchestrated saga: how it starts, its ordered steps, what it sends when
 * it completes or gives up. Immutable: each builder method returns a new
 * definition, so a definition can be shared and extended safely.
 */
export class SagaDefinition<D = unknown> {
  constructor(
    readonly name: string,
    readonly version: number,
    readonly start: SagaStart<D>,
    readonly settings: SagaSettings,
    readonly steps: readonly StepDefinition<D>[] = [],
    readonly completed: SendSpec<D> | undefined = undefined,
    readonly compensated: SendSpec<D> | undefined = undefined,
  ) {}

  /** Appends a step. */
  step(name: string, options: StepOptions<D>): SagaDefinition<D> {
    if (!STEP.test(name) || this.steps.some((step) => step.name === name)) {
      throw new InvalidOptionsError(
        `saga "${this.name}": step name "${name}" must be unique, lower-case letters, digits and dashes`,
        { saga: this.name, step: name },
      );
    }
    if (options.pivot === true && this.pivotIndex >= 0) {
      throw new InvalidOptionsError(`saga "${this.name}" can have one pivot step only`, {
        saga: this.name,
        step: name,
      });
    }
    if (options.pivot === true && options.compensation !== undefined) {
      throw new InvalidOptionsError(
        `saga "${this.name}": the pivot step "${name}" is the point of no return and cannot have a compensation`,
        { saga: this.name, step: name },
      );
    }
    if (this.pivotIndex >= 0 && options.compensation !== undefined) {
      throw new InvalidOptionsError(
        `saga "${this.name}": step "${name}" comes after the pivot, so it is never compensated; remove its compensation`,
        { saga: this.name, step: name },
      );
    }
    if (options.timeoutMs !== undefined)
      positive(this.name, `${name}.timeoutMs`, options.timeoutMs);
    return this.with({ steps: [...this.steps, { name, ...options }] });
  }

  /** Sends this when every step succeeded. */
  onCompleted(spec: SendSpec<D>): SagaDefinition<D> {
    return this.with({ completed: spec });
  }

  /** Sends this after the compensations, once the saga gave up. */
  onCompensated(spec: SendSpec<D>): SagaDefinition<D> {
    return this.with({ compensated: spec });
  }

  /** Index of the pivot step, or -1. */
  get pivotIndex(): number {
    return this.steps.findIndex((step) => step.pivot === true);
  }

  /** Every contract the saga consumes: its start event and each step's replies. */
  get consumes(): AnyEventContract[] {
    const replies = this.steps.flatMap((step) =>
      [step.success, step.failure].filter((spec): spec is ReplySpec<D> => spec !== undefined),
    );
    const all = [this.start.contract, ...replies.map((spec) => spec.contract)];
    return [
      ...new Map(
        all.map((contract) => [`${contract.type}@${contract.version}`, contract]),
      ).values(),
    ];
  }

  private with(
    change: Partial<Pick<SagaDefinition<D>, 'steps' | 'completed' | 'compensated'>>,
  ): SagaDefinition<D> {
    return new SagaDefinition(
      this.name,
      this.version,
      this.start,
      this.settings,
      change.steps ?? this.steps,
      'completed' in change ? change.completed : this.completed,
      'compensated' in change ? change.compensated : this.compensated,
    );
  }
}

export interface DefineSagaOptions<S extends AnyEventContract, D> {
  /** Unique among the sagas of a store; part of every instance's key. */
  readonly name: string;
  /** Stored on each instance; default 1. */
  readonly version?: number;
  readonly startedBy: S;
  /** The saga id read from the start event, e.g. the order id. */
  readonly correlate: (event: ConsumedEvent<S>) => string;
  /** The saga's data at the start. */
  readonly initial: (event: ConsumedEvent<S>) => D;
  readonly stepTimeoutMs?: number;
  readonly retryDelayMs?: number;
  readonly unexpected?: UnexpectedEventPolicy;
}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const STEP = NAME;

/**
 * Starts a saga definition; add steps with `.step()`.
 *
 * @example
 * const OrderSaga = defineSaga({
 *   name: 'order',
 *   startedBy: OrderCreated,
 *   correlate: (event) => event.data.orderId,
 *   initial: (event) => ({ orderId: event.data.orderId, total: event.data.total }),
 * }).step('charge-payment', {
 *   command: send(ChargePayment, (order) => ({ orderId: order.orderId, amount: order.total })),
 *   success: reply(PaymentCharged),
 *   failure: reply(PaymentFailed),
 *   compensation: send(RefundPayment, (order) => ({ orderId: order.orderId })),
 * });
 */
export function defineSaga<S extends AnyEventContract, D>(
  options: DefineSagaOptions<S, D>,
): SagaDefinition<D> {
  if (!NAME.test(options.name)) {
    throw new InvalidOptionsError(
      `saga name "${options.name}" must be lower-case letters, digits and dashes, starting with a letter`,
      { saga: options.name },
    );
  }
  const version = options.version ?? 1;
  positive(options.name, 'version', version);
  const settings: SagaSettings = {
    stepTimeoutMs: positive(options.name, 'stepTimeoutMs', options.stepTimeoutMs ?? 30_000),
    retryDelayMs: positive(options.name, 'retryDelayMs', options.retryDelayMs ?? 1000),
    unexpected: options.unexpected ?? 'ignore',
  };
  const start: SagaStart<D> = {
    contract: options.startedBy,
    correlate: options.correlate as SagaStart<D>['correlate'],
    data: options.initial as SagaStart<D>['data'],
  };
  return new SagaDefinition(options.name, version, start, settings);
}

function positive(saga: string, option: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidOptionsError(
      `saga "${saga}": ${option} must be a positive integer, got ${value}`,
      {
        saga,
        option,
        value,
      },
    );
  }
  return value;
}
