import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Service } from '../platform/service';

/** The page: one HTML file with its CSS and script inline, no build step. */
export const PAGE_FILE = new URL('./index.html', import.meta.url);

const hashes = (html: string, tag: 'script' | 'style'): string[] =>
  [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map(
    ([, body]) =>
      `'sha256-${createHash('sha256')
        .update(body ?? '')
        .digest('base64')}'`,
  );

/**
 * Only the page's own inline script and style run (by hash), and it talks
 * only to this origin: markup that slipped into the page could do nothing.
 */
export function contentSecurityPolicy(html: string): string {
  return [
    "default-src 'none'",
    `script-src ${hashes(html, 'script').join(' ')}`,
    `style-src ${hashes(html, 'style').join(' ')}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The web page: a live feed of the events as they flow, the orders and their
 * sagas, and buttons to place an order and to make the next payment fail. It
 * only serves the page, read once at start; the page uses the shop's API
 * (GET /events/stream, /orders, /order-summaries, /products, POST /orders,
 * /customers, /products, /payment/fail-next), so it belongs with the services
 * that serve those routes.
 */
export function webService(): Service {
  let page: { html: string; policy: string } | undefined;

  return {
    name: 'web',
    async start() {
      const html = readFileSync(PAGE_FILE, 'utf8');
      page = { html, policy: contentSecurityPolicy(html) };
    },
    async stop() {},
    routes: [
      {
        method: 'GET',
        path: '/',
        async handle(_request, { res }) {
          if (!page) throw new Error('The web service has not started');
          res.writeHead(200, {
            'content-type': 'text/html; charset=utf-8',
            'cache-control': 'no-cache',
            'content-security-policy': page.policy,
            'x-content-type-options': 'nosniff',
            'referrer-policy': 'no-referrer',
          });
          res.end(page.html);
          return { handled: true };
        },
      },
    ],
  };
}
