import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startShop, type TestShop } from '../support/shop';

/** Debian's Chromium, driven by playwright-core (which downloads no browser of its own). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WAIT = { timeout: 20_000, interval: 100 };

function chromiumPath(): string {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install Debian's with \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`,
    );
  }
  return CHROMIUM;
}

describe('the web page', () => {
  let shop: TestShop;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    [shop, browser] = await Promise.all([
      startShop(),
      chromium.launch({
        executablePath: chromiumPath(),
        headless: true,
        // CI runs as root, where Chromium's sandbox cannot start.
        args: ['--no-sandbox', '--disable-dev-shm-usage'],
      }),
    ]);
    page = await browser.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await shop?.stop();
  });

  const orderRow = (orderId: string) =>
    page.locator(`[data-testid="order-row"][data-order-id="${orderId}"]`);
  const feedRows = (type: string, orderId: string) =>
    page.locator(`[data-testid="feed-row"][data-type="${type}"][data-correlation-id="${orderId}"]`);

  /** Clicks "Place order" and answers the id of the order the page says it placed. */
  async function placeOrder(productName: string, quantity: number): Promise<string> {
    const message = page.getByTestId('message');
    const before = await message.getAttribute('data-order-id');
    const product = page.getByTestId('product');
    const value = await product
      .locator('option', { hasText: `${productName}: ` })
      .getAttribute('value');
    await product.selectOption(value as string);
    await page.getByTestId('quantity').fill(String(quantity));
    await page.getByTestId('place-order').click();
    await expect
      .poll(async () => (await message.getAttribute('data-order-id')) ?? before, WAIT)
      .not.toBe(before);
    return (await message.getAttribute('data-order-id')) as string;
  }

  it('GET / serves the page as HTML, with a content security policy', async () => {
    const response = await fetch(`${shop.host.http.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toMatch(/script-src 'sha256-/);
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('data-testid="feed-table"');
    expect(html).toContain('data-testid="orders-table"');
  });

  it('places an order from the page and follows it to "shipped", its events in the feed', async () => {
    await page.goto(`${shop.host.http.url}/`);
    await page.locator('body[data-ready="true"]').waitFor();

    // An empty shop: the page offers to seed it through the API.
    await page.getByTestId('seed').click();
    await page.getByTestId('seed').waitFor({ state: 'hidden' });
    await expect.poll(() => page.getByTestId('customer').locator('option').count(), WAIT).toBe(1);
    await expect.poll(() => page.getByTestId('product').locator('option').count(), WAIT).toBe(2);

    const orderId = await placeOrder('Mug', 2);
    expect(orderId).toMatch(/^o-/);
    const row = orderRow(orderId);
    await expect
      .poll(() => row.getByTestId('order-status').textContent(), WAIT)
      .toMatch(/^(shipped|delivered)$/);
    await expect.poll(() => row.getByTestId('order-saga').textContent(), WAIT).toBe('completed');
    expect(await row.getByTestId('order-total').textContent()).toBe('25 EUR');
    expect(await row.getByTestId('order-problem').textContent()).toBe('');

    expect(await page.getByTestId('feed-status').textContent()).toBe('live');
    // The feed shows the order's events, each under the order's correlation id.
    for (const type of ['order.created', 'payment.processed', 'shipment.started']) {
      await expect.poll(() => feedRows(type, orderId).count(), WAIT).toBe(1);
      const feedRow = feedRows(type, orderId);
      expect(await feedRow.getByTestId('feed-type').textContent()).toBe(type);
      expect(await feedRow.getByTestId('feed-correlation').textContent()).toBe(orderId);
      expect(await feedRow.getByTestId('feed-key').textContent()).toBe(orderId);
      expect(await feedRow.getByTestId('feed-time').textContent()).toMatch(
        /^\d\d:\d\d:\d\d\.\d{3}$/,
      );
    }
    // Newest first: the order's creation is below its payment.
    const types = await page
      .locator(`[data-testid="feed-row"][data-correlation-id="${orderId}"]`)
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-type')));
    expect(types.indexOf('payment.processed')).toBeLessThan(types.indexOf('order.created'));
  });

  it('"Fail the next payment" makes the next order cancelled, the problem shown', async () => {
    await page.getByTestId('fail-next').click();
    await expect
      .poll(() => page.getByTestId('message').textContent(), WAIT)
      .toBe('The next payment will be declined.');

    const orderId = await placeOrder('Lamp', 1);
    const row = orderRow(orderId);
    await expect.poll(() => row.getByTestId('order-status').textContent(), WAIT).toBe('cancelled');
    await expect
      .poll(() => row.getByTestId('order-problem').textContent(), WAIT)
      .toBe('payment failed: card declined');
    await expect.poll(() => row.getByTestId('order-saga').textContent(), WAIT).toBe('compensated');
    await expect.poll(() => feedRows('payment.failed', orderId).count(), WAIT).toBe(1);
    await expect.poll(() => feedRows('order.cancelled', orderId).count(), WAIT).toBe(1);
  });

  it('shows data as text, never as markup', async () => {
    const name = '<img src=x onerror="window.__injected = 1">';
    const customer = await shop.shop.post<{ customerId: string }>('/customers', {
      name,
      email: 'mallory@example.com',
    });
    const option = page.locator(`[data-testid="customer"] option[value="${customer.customerId}"]`);
    await expect.poll(() => option.textContent(), WAIT).toBe(`${name} (${customer.customerId})`);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate('window.__injected')).toBeUndefined();
  });

  it('raised no script error nor policy violation in the page', () => {
    expect(problems).toEqual([]);
  });
});
