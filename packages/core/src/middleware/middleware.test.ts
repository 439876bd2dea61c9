import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../envelope/event-envelope';
import { ErrorCodes } from '../errors/error-codes';
import type { HandlerContext } from '../handler/handler';
import { composeMiddleware, type Middleware } from './middleware';

const event = { id: 'e-1' } as EventEnvelope;
const context = { handler: 'h' } as HandlerContext;

describe('composeMiddleware', () => {
  it('runs middleware outermost first around the handler', async () => {
    const trace: string[] = [];
    const named =
      (name: string): Middleware =>
      async (_event, _context, next) => {
        trace.push(`${name}:before`);
        await next();
        trace.push(`${name}:after`);
      };
    const run = composeMiddleware([named('a'), named('b')], () => void trace.push('handler'));
    await run(event, context);
    expect(trace).toEqual(['a:before', 'b:before', 'handler', 'b:after', 'a:after']);
  });

  it('lets a middleware skip the handler or replace its error', async () => {
    let handled = false;
    const skip: Middleware = async () => {};
    await composeMiddleware([skip], () => {
      handled = true;
    })(event, context);
    expect(handled).toBe(false);
    const translate: Middleware = async (_event, _context, next) => {
      await next().catch(() => {
        throw new Error('translated');
      });
    };
    await expect(
      composeMiddleware([translate], () => {
        throw new Error('raw');
      })(event, context),
    ).rejects.toThrow('translated');
  });

  it('refuses a second call to next()', async () => {
    const twice: Middleware = async (_event, _context, next) => {
      await next();
      await next();
    };
    await expect(composeMiddleware([twice], () => {})(event, context)).rejects.toMatchObject({
      code: ErrorCodes.INVALID_STATE,
    });
  });

  it('calls the handler directly when there is no middleware', async () => {
    let calls = 0;
    await composeMiddleware([], () => void calls++)(event, context);
    expect(calls).toBe(1);
  });
});
