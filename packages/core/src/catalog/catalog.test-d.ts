import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../contract/define-event';
import { type AsyncApiDocument, asyncApiDocument } from './asyncapi';
import type { Catalog, CatalogEvent } from './catalog';
import { defineCatalog } from './define-catalog';
import { type CatalogPage, eventPages } from './event-pages';

const OrderPlaced = defineEvent({
  type: 'order.placed',
  schema: z.object({ orderId: z.string(), currency: z.string().default('USD') }),
  description: 'placed',
});
const PaymentRequested = defineEvent({
  type: 'payment.requested',
  schema: z.object({ amount: z.number() }),
  description: 'requested',
});

describe('catalog types', () => {
  it('checks each example against its own contract', () => {
    defineCatalog({
      title: 't',
      version: '1',
      events: [
        // Input type: the defaulted currency may be left out.
        { contract: OrderPlaced, producer: 'p', consumers: [], example: { orderId: 'o' } },
        { contract: PaymentRequested, producer: 'p', consumers: [], example: { amount: 1 } },
      ],
    });
    defineCatalog({
      title: 't',
      version: '1',
      events: [
        { contract: OrderPlaced, producer: 'p', consumers: [] },
        // @ts-expect-error a payment example does not fit an order
        { contract: PaymentRequested, producer: 'p', consumers: [], example: { orderId: 'o' } },
      ],
    });
  });

  it('accepts a list built elsewhere, and only known kinds', () => {
    const events: CatalogEvent[] = [{ contract: OrderPlaced, producer: 'p', consumers: [] }];
    expectTypeOf(defineCatalog({ title: 't', version: '1', events })).toEqualTypeOf<Catalog>();
    defineCatalog({
      title: 't',
      version: '1',
      // @ts-expect-error "query" is not a kind
      events: [{ contract: OrderPlaced, producer: 'p', consumers: [], kind: 'query' }],
    });
    // @ts-expect-error the catalog version is text, as in AsyncAPI
    defineCatalog({ title: 't', version: 1, events });
  });

  it('returns pages and a typed AsyncAPI document', () => {
    const catalog = defineCatalog({
      title: 't',
      version: '1',
      events: [{ contract: OrderPlaced, producer: 'p', consumers: [] }],
    });
    expectTypeOf(eventPages(catalog)).toEqualTypeOf<CatalogPage[]>();
    const document = asyncApiDocument(catalog);
    expectTypeOf(document).toEqualTypeOf<AsyncApiDocument>();
    expectTypeOf(document.asyncapi).toEqualTypeOf<'3.0.0'>();
    expectTypeOf(document.operations['order.placed.send']?.action).toEqualTypeOf<
      'send' | 'receive' | undefined
    >();
    // @ts-expect-error a server needs a protocol
    asyncApiDocument(catalog, { servers: { local: { host: 'localhost:9092' } } });
  });
});
