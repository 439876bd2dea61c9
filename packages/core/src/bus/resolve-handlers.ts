import type { AnyEventContract } from '../contract/event-contract';
import type { EventEnvelope } from '../envelope/event-envelope';
import { InvalidOptionsError } from '../errors/usage-errors';
import type { HandlerBinding, HandlerContext } from '../handler/handler';
import { composeMiddleware, type Middleware } from '../middleware/middleware';

/** A handler ready to run: named, wrapped in its middleware. */
export interface ResolvedHandler {
  readonly name: string;
  readonly contract: AnyEventContract;
  /** The handler through its middleware; without middleware, whatever the handler returns. */
  run(event: EventEnvelope, context: HandlerContext): unknown;
}

/** Groups a subscription's handlers by event type, naming each one stably. */
export function resolveHandlers(
  group: string,
  bindings: readonly HandlerBinding[],
  middleware: readonly Middleware[],
): Map<string, ResolvedHandler[]> {
  if (bindings.length === 0) {
    throw new InvalidOptionsError(`Subscription "${group}" has no handlers`, { group });
  }
  const byType = new Map<string, ResolvedHandler[]>();
  const names = new Set<string>();
  for (const binding of bindings) {
    const { contract } = binding;
    if (typeof binding.handle !== 'function' || contract === undefined) {
      throw new InvalidOptionsError(
        `Subscription "${group}" has a handler without a contract or function; build handlers with on()`,
        { group },
      );
    }
    const list = byType.get(contract.type) ?? [];
    const siblings = bindings.filter((other) => other.contract?.type === contract.type);
    if (siblings.length > 1 && binding.name === undefined) {
      // A position-based name would change when the list is reordered, and with it
      // the idempotency keys and the handler named on dead letters.
      throw new InvalidOptionsError(
        `Subscription "${group}" has ${siblings.length} handlers for "${contract.type}": give each a name with on(contract, handler, { name })`,
        { group, eventType: contract.type },
      );
    }
    const name = binding.name ?? `${group}/${contract.type}`;
    if (names.has(name)) {
      throw new InvalidOptionsError(`Subscription "${group}" has two handlers named "${name}"`, {
        group,
        handler: name,
      });
    }
    names.add(name);
    const handle = (event: EventEnvelope, context: HandlerContext): unknown =>
      binding.handle(event as Parameters<typeof binding.handle>[0], context);
    // Without middleware the handler is called as it is: no wrapping async
    // function, so a synchronous handler costs no promise per event.
    const run = middleware.length === 0 ? handle : composeMiddleware(middleware, handle);
    list.push({ name, contract, run });
    byType.set(contract.type, list);
  }
  return byType;
}
