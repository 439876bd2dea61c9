import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Parser } from '@asyncapi/parser';
import {
  asyncApiDocument,
  eventPages,
  InMemoryTransport,
  type TransportSubscription,
} from '@edakit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { catalog } from '../../contracts/catalog';
import { startShop, type TestShop } from '../support/shop';

const root = path.resolve(import.meta.dirname, '../..');

describe('the event catalog', () => {
  it('docs/events and docs/asyncapi.json are what `npm run catalog` writes now (regenerate them after a contract change)', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'shop-catalog-'));
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(root, '../../packages/core/bin/edakit-catalog.mjs'),
        'contracts/catalog.ts',
        '--export',
        'catalog',
        '--out',
        path.join(out, 'events'),
        '--asyncapi',
        path.join(out, 'asyncapi.json'),
      ],
      { cwd: root, stdio: 'pipe' },
    );
    const committed = readdirSync(path.join(root, 'docs/events')).sort();
    expect(readdirSync(path.join(out, 'events')).sort()).toEqual(committed);
    for (const file of committed) {
      expect(readFileSync(path.join(out, 'events', file), 'utf8'), file).toBe(
        readFileSync(path.join(root, 'docs/events', file), 'utf8'),
      );
    }
    expect(readFileSync(path.join(out, 'asyncapi.json'), 'utf8')).toBe(
      readFileSync(path.join(root, 'docs/asyncapi.json'), 'utf8'),
    );
  });

  it('has a page per event following the template: producer, consumers, fields, versions', () => {
    const pages = new Map(eventPages(catalog).map((page) => [page.file, page.markdown]));
    expect(pages.size).toBe(catalog.events.length + 1);
    const cart = pages.get('cart.product-added.md') ?? '';
    expect(cart).toContain('**Producer:** cart');
    expect(cart).toContain('**Consumers:** recommendations, analytics');
    expect(cart).toMatch(/\| `quantity` \| `integer` \| yes \| positive \|/);
    expect(cart).toMatch(/\| `addedAt` \| `string` \| yes \| .*date-time/);
    const order = pages.get('order.created.md') ?? '';
    expect(order).toContain('**Current version:** 2');
    expect(order).toContain('| 1 | First version: every order was in euros. |');
  });

  it('is a valid AsyncAPI 3 document according to the official parser', async () => {
    const document = asyncApiDocument(catalog, {
      servers: { kafka: { host: '127.0.0.1:9092', protocol: 'kafka' } },
    });
    const diagnostics = await new Parser().validate(JSON.stringify(document));
    const errors = diagnostics.filter((d) => d.severity === 0);
    expect(errors, JSON.stringify(errors, null, 2)).toEqual([]);
    expect(Object.keys(document.channels).sort()).toEqual(
      [...new Set(catalog.events.map((e) => e.contract.channel))].sort(),
    );
  });
});

describe('the catalog tells the truth about who consumes what', () => {
  let shop: TestShop | undefined;
  afterAll(async () => {
    await shop?.stop();
  });

  it('every running consumer group handles exactly the events the catalog lists for it', async () => {
    const subscriptions: TransportSubscription[] = [];
    const transport = new InMemoryTransport();
    const subscribe = transport.subscribe.bind(transport);
    transport.subscribe = (subscription) => {
      subscriptions.push(subscription);
      return subscribe(subscription);
    };
    shop = await startShop({}, undefined, transport);
    // Groups are named after catalog consumers; the saga runs as 'saga.order'; the feed only watches.
    // The read model reads the log again at each start, under a group of that start.
    const consumerOf = (group: string) =>
      group === 'saga.order'
        ? 'order-saga'
        : group.startsWith('order-summary-')
          ? 'order-summary'
          : group;
    const actual = new Map<string, string[]>();
    for (const { group, types } of subscriptions) {
      if (group === 'event-feed') continue;
      actual.set(consumerOf(group), [...types].sort());
    }
    const listed = new Map<string, string[]>();
    for (const { contract, consumers } of catalog.events) {
      for (const consumer of consumers)
        listed.set(consumer, [...(listed.get(consumer) ?? []), contract.type]);
    }
    for (const types of listed.values()) types.sort();
    expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(listed));
  });
});
