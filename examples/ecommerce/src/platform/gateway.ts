import { createServer, request as httpRequest, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Route } from './http';

/** What `GET /process` answers: which services a process runs and the routes it serves. */
export interface ProcessInfo {
  readonly services: readonly string[];
  readonly transport: string;
  readonly namespace: string;
  readonly routes: readonly { method: string; path: string }[];
}

/** `GET /process` of a service process: what the gateway reads to know where a route lives. */
export function processRoute(info: Omit<ProcessInfo, 'routes'>, routes: readonly Route[]): Route {
  const body: ProcessInfo = {
    ...info,
    routes: routes.map(({ method, path }) => ({ method, path })),
  };
  return { method: 'GET', path: '/process', handle: async () => ({ json: body }) };
}

interface Entry {
  readonly method: string;
  readonly segments: readonly string[];
  readonly upstream: string;
}

const matches = (entry: Entry, method: string, segments: readonly string[]) =>
  entry.method === method &&
  entry.segments.length === segments.length &&
  entry.segments.every((want, i) => want.startsWith(':') || want === segments[i]);

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/** Asks every upstream for its routes, retrying until all answer or `timeoutMs` passed. */
async function discover(upstreams: readonly string[], timeoutMs: number): Promise<Entry[]> {
  const deadline = Date.now() + timeoutMs;
  const infos = new Map<string, ProcessInfo>();
  for (;;) {
    for (const upstream of upstreams) {
      if (infos.has(upstream)) continue;
      try {
        const response = await fetch(`${upstream}/process`, { signal: AbortSignal.timeout(2_000) });
        if (response.ok) infos.set(upstream, (await response.json()) as ProcessInfo);
      } catch {
        // Not up yet: asked again below.
      }
    }
    if (infos.size === upstreams.length) break;
    if (Date.now() > deadline) {
      const missing = upstreams.filter((upstream) => !infos.has(upstream));
      throw new Error(`No answer from ${missing.join(', ')} within ${timeoutMs} ms`);
    }
    await sleep(250);
  }
  return upstreams.flatMap((upstream) =>
    (infos.get(upstream) as ProcessInfo).routes
      .filter((route) => route.path !== '/process')
      .map((route) => ({ method: route.method, segments: route.path.split('/'), upstream })),
  );
}

export interface Gateway {
  readonly url: string;
  /** Which upstream serves each route, as `GET /process` of the gateway shows it. */
  readonly routes: readonly { method: string; path: string; upstream: string }[];
  close(): Promise<void>;
}

/**
 * One HTTP address for a shop spread over processes: learns each upstream's
 * routes from its `GET /process` at start, then forwards every request
 * (streams included) to the first upstream serving its method and path.
 */
export async function startGateway(
  upstreams: readonly string[],
  port: number,
  options: { discoverTimeoutMs?: number; host?: string } = {},
): Promise<Gateway> {
  if (upstreams.length === 0) throw new Error('The gateway needs SHOP_UPSTREAMS: a list of URLs');
  const entries = await discover(upstreams, options.discoverTimeoutMs ?? 60_000);
  const routes = entries.map((entry) => ({
    method: entry.method,
    path: entry.segments.join('/'),
    upstream: entry.upstream,
  }));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/process') {
      sendJson(res, 200, { gateway: true, upstreams, routes });
      return;
    }
    const segments = url.pathname.split('/');
    const entry = entries.find((candidate) => matches(candidate, method, segments));
    if (!entry) {
      sendJson(res, 404, {
        error: { code: 'NOT_FOUND', message: `No route for ${method} ${url.pathname}` },
      });
      return;
    }
    const upstream = httpRequest(
      `${entry.upstream}${url.pathname}${url.search}`,
      { method, headers: { ...req.headers, host: new URL(entry.upstream).host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (res.headersSent) res.destroy();
      else
        sendJson(res, 502, {
          error: { code: 'UPSTREAM_UNAVAILABLE', message: `${entry.upstream}: ${error.message}` },
        });
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${bound}`,
    routes,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
