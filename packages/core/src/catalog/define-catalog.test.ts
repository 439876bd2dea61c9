import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OrderPlaced, PaymentRequested, shop } from '../../test/catalog/shop-catalog';
import { defineEvent } from '../contract/define-event';
import { EdakitError } from '../errors/edakit-error';
import { ErrorCodes } from '../errors/error-codes';
import { type CatalogEvent, type CatalogOptions, isCatalog } from './catalog';
import { defineCatalog } from './define-catalog';

const order: CatalogEvent = { contract: OrderPlaced, producer: 'checkout', consumers: ['billing'] };

/** Options as plain JS could pass them: the checks exist for what types cannot stop. */
function loose(options: Record<string, unknown>): CatalogOptions {
  return { title: 'Shop', version: '1.0.0', events: [order], ...options } as CatalogOptions;
}

function rejection(define: () => unknown): EdakitError {
  try {
    define();
  } catch (error) {
    if (EdakitError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('defineCatalog accepted it');
}

describe('defineCatalog', () => {
  it('keeps the events in order with defaults applied, frozen and recognisable', () => {
    expect(isCatalog(shop)).toBe(true);
    expect(isCatalog({ ...shop })).toBe(false);
    expect(isCatalog(null)).toBe(false);
    expect(Object.isFrozen(shop)).toBe(true);
    expect(shop.events.map((entry) => [entry.contract.type, entry.kind])).toEqual([
      ['order.placed', 'event'],
      ['payment.requested', 'command'],
      ['payment.captured', 'reply'],
    ]);
    expect(shop.events[0]?.changes.get(2)).toBe('Adds `currency`; v1 orders were in USD');
    expect(shop.events[0]?.example).toBeUndefined();
  });

  it('rejects a second entry for one event type, naming it', () => {
    const error = rejection(() =>
      defineCatalog({ title: 'Shop', version: '1', events: [order, { ...order, producer: 'x' }] }),
    );
    expect(error).toMatchObject({
      code: ErrorCodes.INVALID_CATALOG,
      name: 'InvalidCatalogError',
      context: { eventType: 'order.placed', index: 1 },
    });
    expect(error.message).toMatch(/lists "order.placed" twice/);
  });

  it.each([
    ['an empty producer', { producer: '  ' }, /"order.placed" needs a producer/],
    ['an empty consumer', { consumers: ['billing', ''] }, /empty consumer name/],
    ['a repeated consumer', { consumers: ['billing', 'billing'] }, /consumer "billing" twice/],
    ['consumers that are not a list', { consumers: 'billing' }, /must be an array/],
    ['an unknown kind', { kind: 'query' }, /must be "event", "command" or "reply", got "query"/],
    ['changes that are not an object', { changes: 'v2' }, /must map version numbers/],
    ['an empty change note', { changes: { 2: ' ' } }, /change note of "order.placed" v2 is empty/],
  ])('rejects %s, with the event type in context', (_case, change, message) => {
    const error = rejection(() => defineCatalog(loose({ events: [{ ...order, ...change }] })));
    expect(error.code).toBe(ErrorCodes.INVALID_CATALOG);
    expect(error.message).toMatch(message);
    expect(error.context).toMatchObject({ eventType: 'order.placed', index: 0 });
  });

  it.each([
    ['4', 'a version the contract does not have yet'],
    ['0', 'version 0'],
    ['1.5', 'a fractional version'],
  ])('rejects changes of version %s (%s)', (version) => {
    const error = rejection(() =>
      defineCatalog(loose({ events: [{ ...order, changes: { [version]: 'text' } }] })),
    );
    expect(error.message).toBe(
      `"order.placed" describes changes of version ${version}, but its contract has versions 1 to 3`,
    );
    expect(error.context).toMatchObject({ eventType: 'order.placed', version });
  });

  it('checks the example against the schema and keeps zod issues', () => {
    const error = rejection(() =>
      defineCatalog({
        title: 'Shop',
        version: '1',
        events: [
          {
            contract: PaymentRequested,
            producer: 'billing',
            consumers: [],
            example: { orderId: 'not-a-uuid', amount: 1 },
          },
        ],
      }),
    );
    expect(error.message).toMatch(
      /example of "payment.requested" does not match its v1 schema at "orderId"/,
    );
    expect(error.context).toMatchObject({
      eventType: 'payment.requested',
      issues: [expect.objectContaining({ path: 'orderId' })],
    });
  });

  it('stores the example parsed, with defaults applied', () => {
    const Defaulted = defineEvent({
      type: 'cart.created',
      schema: z.object({ cartId: z.string(), currency: z.string().default('EUR') }),
      description: 'x',
    });
    const catalog = defineCatalog({
      title: 't',
      version: '1',
      events: [{ contract: Defaulted, producer: 'p', consumers: [], example: { cartId: 'c' } }],
    });
    expect(catalog.events[0]?.example).toEqual({ cartId: 'c', currency: 'EUR' });
  });

  it.each([
    ['no options', undefined, /needs an options object/],
    ['no title', { title: '' }, /needs a title/],
    ['no version', { version: 2 }, /"Shop" needs a version/],
    ['a description that is not text', { description: 3 }, /description of catalog "Shop"/],
    ['no events', { events: [] }, /needs at least one event/],
    ['events that are not a list', { events: {} }, /needs at least one event/],
    ['an entry without a contract', { events: [{ producer: 'p' }] }, /#0 needs a contract/],
    ['a null entry', { events: [order, null] }, /#1 needs a contract/],
  ])('rejects %s', (_case, options, message) => {
    const define = () =>
      defineCatalog(options === undefined ? (undefined as never) : loose(options));
    expect(define).toThrowError(message);
    expect(rejection(define).code).toBe(ErrorCodes.INVALID_CATALOG);
  });

  it('refuses an event type that would overwrite index.md', () => {
    const Index = defineEvent({ type: 'index', schema: z.object({}), description: 'x' });
    expect(() =>
      defineCatalog({
        title: 't',
        version: '1',
        events: [{ contract: Index, producer: 'p', consumers: [] }],
      }),
    ).toThrowError(/"index" cannot be catalogued/);
  });
});
