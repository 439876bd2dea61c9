import { type AnyEventContract, type ConsumedEvent, on } from '@edakit/core';
import { catalog } from '../../contracts/catalog';
import type { Service, ServiceDeps } from '../platform/service';

export interface FeedEntry {
  readonly id: string;
  readonly type: string;
  readonly key: string | null;
  readonly correlationId: string;
  readonly time: string;
  readonly source: string;
  readonly data: unknown;
}

const KEEP = 500;

/**
 * Every event of the catalog as it flows, for the web page and the narrated
 * scenario: a consumer group of its own (it changes nothing), the last 500
 * kept, listeners told of each new one. GET /events lists them; GET
 * /events/stream sends them as server-sent events.
 */
export function eventFeedService({ bus }: ServiceDeps): Service & {
  readonly entries: readonly FeedEntry[];
  listen(listener: (entry: FeedEntry) => void): () => void;
} {
  const entries: FeedEntry[] = [];
  const listeners = new Set<(entry: FeedEntry) => void>();
  const record = (event: ConsumedEvent<AnyEventContract>) => {
    const entry: FeedEntry = {
      id: event.id,
      type: event.type,
      key: event.partitionkey ?? null,
      correlationId: event.correlationid,
      time: event.time ?? new Date().toISOString(),
      source: event.source,
      data: event.data,
    };
    entries.push(entry);
    if (entries.length > KEEP) entries.splice(0, entries.length - KEEP);
    for (const listener of listeners) listener(entry);
  };

  return {
    name: 'event-feed',
    entries,
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      bus.subscribe({
        group: 'event-feed',
        concurrency: 1,
        handlers: catalog.events.map(({ contract }) => on(contract, record)),
      });
    },
    async stop() {
      listeners.clear();
    },
    routes: [
      {
        method: 'GET',
        path: '/events',
        handle: async () => ({ json: entries }),
      },
      {
        method: 'GET',
        path: '/events/stream',
        async handle(_request, { req, res }) {
          res.writeHead(200, {
            'content-type': 'text/event-stream',
            'cache-control': 'no-cache',
            connection: 'keep-alive',
          });
          // Open the stream now: on a quiet shop the first event may be long in coming.
          res.flushHeaders();
          const write = (entry: FeedEntry) => res.write(`data: ${JSON.stringify(entry)}\n\n`);
          for (const entry of entries) write(entry);
          const stop = (() => {
            listeners.add(write);
            return () => listeners.delete(write);
          })();
          req.on('close', stop);
          return { handled: true };
        },
      },
    ],
  };
}
