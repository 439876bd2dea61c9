import type { AnyEventContract, EventData, EventInput } from '../contract/event-contract';
import type { EventEnvelope, PublishOptions } from '../envelope/event-envelope';
import type { Logger } from '../logging/logger';

/** The event a handler of contract C receives. */
export type ConsumedEvent<C extends AnyEventContract> = EventEnvelope<EventData<C>, C['type']>;

/** Publishes from inside a handler, carrying the conversation forward. */
export type ContextPublish = <C extends AnyEventContract>(
  contract: C,
  data: EventInput<C>,
  options?: PublishOptions,
) => Promise<EventEnvelope<EventData<C>, C['type']>>;

export interface HandlerContext {
  readonly group: string;
  /** Stable handler name: idempotency keys and dead letters use it. */
  readonly handler: string;
  readonly channel: string;
  /** 1 on the first attempt; counts immediate and delayed retries. */
  readonly attempt: number;
  /** Version the producer wrote, before upcasting. */
  readonly receivedVersion: number;
  /** Aborted when the consumer stops (deadline reached) or the handler times out. */
  readonly signal: AbortSignal;
  /** Sets `correlationid` to this event's and `causationid` to this event's id. */
  readonly publish: ContextPublish;
  readonly logger: Logger;
}

/** A handler; whatever it returns is awaited and ignored (`(e) => list.push(e)` is fine). */
export type EventHandler<C extends AnyEventContract> = (
  event: ConsumedEvent<C>,
  context: HandlerContext,
) => unknown;

/** A contract bound to its handler; build with `on()`. */
export interface HandlerBinding<C extends AnyEventContract = AnyEventContract> {
  readonly contract: C;
  // Method syntax on purpose: bindings of different contracts fit in one list.
  // `on()` still checks the handler against its contract strictly.
  handle(event: ConsumedEvent<C>, context: HandlerContext): unknown;
  readonly name?: string | undefined;
}

export interface HandlerBindingOptions {
  /**
   * Stable name: idempotency keys and dead letters use it. Defaults to
   * `<group>/<type>`; when a group has several handlers for one type, each
   * needs its own name (a position would change when the list is reordered).
   */
  readonly name?: string;
}

/**
 * Binds a handler to a contract; the handler's event type is inferred.
 *
 * @example
 * bus.subscribe({
 *   group: 'inventory',
 *   handlers: [on(OrderCreated, async (event) => reserve(event.data.items))],
 * });
 */
export function on<C extends AnyEventContract>(
  contract: C,
  handle: EventHandler<C>,
  options: HandlerBindingOptions = {},
): HandlerBinding<C> {
  return { contract, handle, name: options.name };
}
