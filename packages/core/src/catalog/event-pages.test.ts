import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { shop } from '../../test/catalog/shop-catalog';
import { defineEvent } from '../contract/define-event';
import { ErrorCodes } from '../errors/error-codes';
import type { Catalog } from './catalog';
import { defineCatalog } from './define-catalog';
import { eventPages } from './event-pages';

function page(catalog: Catalog, file: string): string {
  const found = eventPages(catalog).find((candidate) => candidate.file === file);
  if (!found) throw new Error(`no page ${file}`);
  return found.markdown;
}

/** The cells of a table row, found by its first cell; escaped pipes stay inside a cell. */
function row(markdown: string, first: string): string[] {
  const line = markdown.split('\n').find((candidate) => candidate.startsWith(`| ${first} |`));
  if (!line) throw new Error(`no row ${first} in:\n${markdown}`);
  return line
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((value) => value.trim().replaceAll('\\|', '|'));
}

const field = (markdown: string, name: string) => row(markdown, `\`${name}\``).slice(1);

describe('eventPages', () => {
  const order = page(shop, 'order.placed.md');

  it('writes index.md and one page per event, named by type', () => {
    expect(eventPages(shop).map((candidate) => candidate.file)).toEqual([
      'index.md',
      'order.placed.md',
      'payment.requested.md',
      'payment.captured.md',
    ]);
  });

  it('heads each page with the type, description, producer, consumers, channel and version', () => {
    expect(order).toContain('# order.placed\n\nA customer placed an order\n');
    expect(order).toContain('- **Kind:** event');
    expect(order).toContain('- **Producer:** checkout');
    expect(order).toContain('- **Consumers:** billing, Shipping Service');
    expect(order).toContain('- **Channel:** `order`');
    expect(order).toContain('- **Current version:** 3');
    expect(order.startsWith('<!-- Generated')).toBe(true);
  });

  it('lists fields with dotted paths, types, required and validations', () => {
    // [type, required, constraints, description]
    expect(field(order, 'orderId')).toEqual(['`string`', 'yes', 'format: uuid', '']);
    expect(field(order, 'customer')).toEqual(['`object`', 'yes', '', 'Who placed the order']);
    expect(field(order, 'customer.id')).toEqual(['`string`', 'yes', 'min length 1', '']);
    expect(field(order, 'customer.email')).toEqual(['`string`', 'no', 'format: email', '']);
    expect(field(order, 'items')).toEqual(['`object[]`', 'yes', 'at least 1 item', '']);
    expect(field(order, 'items[].sku')).toEqual([
      '`string`',
      'yes',
      'min length 3, max length 20',
      '',
    ]);
    expect(field(order, 'items[].quantity')).toEqual(['`integer`', 'yes', 'positive', '']);
    expect(field(order, 'items[].price')).toEqual(['`object (Money)`', 'yes', '', '']);
    expect(field(order, 'items[].price.amount')).toEqual(['`number`', 'yes', 'min 0', '']);
    expect(field(order, 'status')).toEqual(['`string`', 'yes', 'one of: `pending`, `paid`', '']);
    // Documented as consumers accept it: a defaulted field may be left out.
    expect(field(order, 'currency')).toEqual(['`string`', 'no', 'length 3, default: `"USD"`', '']);
    expect(field(order, 'note')).toEqual(['`string | null`', 'no', '', '']);
  });

  it('lists the variants of a discriminated union under their discriminator', () => {
    expect(field(order, 'payment')).toEqual([
      '`object`',
      'yes',
      'variants by `method`: `card`, `invoice`',
      '',
    ]);
    expect(field(order, 'payment[method=card].last4')).toEqual(['`string`', 'yes', 'length 4', '']);
    expect(field(order, 'payment[method=invoice].dueDays')).toEqual([
      '`integer`',
      'yes',
      'min 1, max 90',
      '',
    ]);
    expect(order).not.toContain('`payment[method=card].method`');
  });

  it('gives every version its change note and says how old versions are read', () => {
    expect(row(order, '1')).toEqual([
      '1',
      'First version.',
      'validated against the v1 schema, then upcast to v2',
    ]);
    expect(row(order, '2')).toEqual([
      '2',
      'Adds `currency`; v1 orders were in USD',
      'validated against the v2 schema, then upcast to v3',
    ]);
    expect(row(order, '3 (current)')).toEqual([
      '3 (current)',
      'Line items, customer and payment; `total` moves into the items',
      'read as is',
    ]);
  });

  it('says "upcast" only for contracts without the old schema, and leaves undescribed versions blank', () => {
    const Record2 = defineEvent({
      type: 'order.placed',
      version: 2,
      schema: z.object({ id: z.string() }),
      description: 'x',
      upcasters: { 1: (data) => data },
    });
    const catalog = defineCatalog({
      title: 't',
      version: '1',
      events: [{ contract: Record2, producer: 'p', consumers: [], changes: { 1: 'Born' } }],
    });
    const markdown = page(catalog, 'order.placed.md');
    expect(row(markdown, '1')).toEqual(['1', 'Born', 'upcast to v2']);
    expect(row(markdown, '2 (current)')).toEqual(['2 (current)', '', 'read as is']);
  });

  it('shows the example as sent: parsed, with defaults', () => {
    const requested = page(shop, 'payment.requested.md');
    expect(requested).toContain('- **Kind:** command');
    expect(requested).toContain(
      '## Example\n\n```json\n{\n  "orderId": "0190a6c4-9a0e-7cc2-8f5e-3b8a5f1d2c3e",\n  "amount": 42.5\n}\n```',
    );
    expect(order).not.toContain('## Example');
  });

  it('lists the events in index.md grouped by producer, sorted', () => {
    const index = page(shop, 'index.md');
    expect(index).toContain('# Shop events\n\nCatalog version 2.1.0.');
    expect(index).toContain('What the shop services tell each other.');
    const headings = index.split('\n').filter((line) => line.startsWith('## '));
    expect(headings).toEqual(['## billing', '## checkout', '## payments']);
    const billing = index.slice(index.indexOf('## billing'), index.indexOf('## checkout'));
    expect(billing).toContain('[payment.requested](payment.requested.md)');
    expect(billing).not.toContain('order.placed');
    expect(row(index, '[order.placed](order.placed.md)')).toEqual([
      '[order.placed](order.placed.md)',
      'event',
      'v3',
      '`order`',
      'billing, Shipping Service',
      'A customer placed an order',
    ]);
    expect(row(index, '[payment.captured](payment.captured.md)')[1]).toBe('reply');
  });

  it('keeps tables intact when text holds pipes or line breaks', () => {
    const Odd = defineEvent({
      type: 'odd.happened',
      schema: z.object({ a: z.string().describe('one | two\nthree') }),
      description: 'Either | or',
    });
    const catalog = defineCatalog({
      title: 't',
      version: '1',
      events: [{ contract: Odd, producer: 'p', consumers: [] }],
    });
    expect(page(catalog, 'odd.happened.md')).toContain(
      '| `a` | `string` | yes |  | one \\| two three |',
    );
    expect(page(catalog, 'index.md')).toContain('| none yet | Either \\| or |');
  });

  it('describes data that is not an object in one sentence', () => {
    const Ping = defineEvent({ type: 'ping.sent', schema: z.string(), description: 'A ping' });
    const catalog = defineCatalog({
      title: 't',
      version: '1',
      events: [{ contract: Ping, producer: 'p', consumers: [] }],
    });
    expect(page(catalog, 'ping.sent.md')).toContain('The data is of type `string`.');
  });

  it('refuses something that is not a catalog', () => {
    expect(() => eventPages({ title: 't', version: '1', events: [] })).toThrowError(
      expect.objectContaining({ code: ErrorCodes.INVALID_CATALOG }),
    );
  });
});
