import type { EventEnvelope } from '../envelope/event-envelope';
import { InvalidStateError } from '../errors/usage-errors';
import type { HandlerContext } from '../handler/handler';

/**
 * Wraps every handler of a bus or subscription: do work before, call `next`
 * (at most once), do work after. Throwing fails the attempt like the handler would.
 */
export type Middleware = (
  event: EventEnvelope,
  context: HandlerContext,
  next: () => Promise<void>,
) => Promise<void>;

/** Runs `middleware` in order around `last`: the first one is the outermost. */
export function composeMiddleware(
  middleware: readonly Middleware[],
  last: (event: EventEnvelope, context: HandlerContext) => unknown,
): (event: EventEnvelope, context: HandlerContext) => Promise<void> {
  if (middleware.length === 0) {
    return async (event, context) => {
      await last(event, context);
    };
  }
  return (event, context) => {
    let called = -1;
    const dispatch = async (index: number): Promise<void> => {
      if (index <= called) {
        throw new InvalidStateError(
          `A middleware called next() twice (handler ${context.handler})`,
          {
            handler: context.handler,
          },
        );
      }
      called = index;
      const current = middleware[index];
      if (current === undefined) {
        await last(event, context);
        return;
      }
      return current(event, context, () => dispatch(index + 1));
    };
    return dispatch(0);
  };
}
