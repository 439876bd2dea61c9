import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { traceRequest } from './http-tracing';

/** An error a route throws to answer with a status and a code the caller can act on. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export interface Request {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

/** What a route answers: JSON (status 200 unless given), or a raw response it wrote itself. */
export type Reply = { status?: number; json: unknown } | { handled: true };

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** `/orders/:orderId`: `:name` segments become params. */
  readonly path: string;
  handle(request: Request, raw: { req: IncomingMessage; res: ServerResponse }): Promise<Reply>;
}

/** Parses a request body with a zod schema; a 400 listing the problems otherwise. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new HttpError(
      400,
      'INVALID_REQUEST',
      'The request body is not valid',
      z.treeifyError(parsed.error),
    );
  }
  return parsed.data;
}

const MAX_BODY_BYTES = 64 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, 'BODY_TOO_LARGE', 'The body is over 64 KiB');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'INVALID_JSON', 'The body is not JSON');
  }
}

function match(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const have = path.split('/');
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i] as string;
    const value = have[i] as string;
    if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(value);
    else if (segment !== value) return undefined;
  }
  return params;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(json);
}

/** Answers one request from the first route that matches; resolves to that route's pattern. */
async function answer(
  routes: readonly Route[],
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<string | undefined> {
  let matched: string | undefined;
  try {
    for (const route of routes) {
      if (route.method !== req.method) continue;
      const params = match(route.path, url.pathname);
      if (params === undefined) continue;
      matched = route.path;
      const body = req.method === 'GET' ? undefined : await readJson(req);
      const reply = await route.handle({ params, query: url.searchParams, body }, { req, res });
      if ('json' in reply) send(res, reply.status ?? 200, reply.json);
      return matched;
    }
    throw new HttpError(404, 'NOT_FOUND', `No route for ${req.method} ${url.pathname}`);
  } catch (error) {
    if (res.headersSent) {
      res.destroy();
    } else if (error instanceof HttpError) {
      send(res, error.status, {
        error: { code: error.code, message: error.message, details: error.details },
      });
    } else {
      const message = error instanceof Error ? error.message : String(error);
      send(res, 500, { error: { code: 'INTERNAL', message } });
    }
    return matched;
  }
}

export interface ServeOptions {
  /** Interface to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /** A SERVER span per request (OpenTelemetry). Default off. */
  readonly tracing?: boolean;
}

/** A JSON HTTP server over a list of routes. */
export async function serve(
  routes: readonly Route[],
  port: number,
  options: ServeOptions = {},
): Promise<HttpServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (options.tracing === true) {
      await traceRequest(req, res, url.pathname, () => answer(routes, req, res, url));
    } else {
      await answer(routes, req, res, url);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return new HttpServer(server);
}

export class HttpServer {
  constructor(private readonly server: Server) {}

  get url(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address}:${port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
