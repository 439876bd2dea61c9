import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createBus, defineEvent, InMemoryTransport, type PreparedEvent } from '@edakit/core';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { z } from 'zod';
import { failFastRedisOptions } from '../../src/redis/redis-client';

export const REDIS_HOST = process.env.REDIS_HOST ?? '127.0.0.1';
export const REDIS_PORT = Number(process.env.REDIS_PORT ?? 6379);

/** A connected client created the way the stores require (fails fast). */
export async function connectRedis(): Promise<Redis> {
  const client = new Redis({
    host: REDIS_HOST,
    port: REDIS_PORT,
    lazyConnect: true,
    ...failFastRedisOptions,
  });
  await client.connect();
  return client;
}

/** A key prefix no other test or run uses. */
export const uniquePrefix = (name: string): string =>
  `edakit-test:${name}:${randomUUID().slice(0, 8)}:`;

/**
 * Clients and prefixes of one test file: every client is closed and every key
 * under a prefix deleted after the file's tests.
 */
export function useRedis(): {
  client(): Promise<Redis>;
  prefix(name: string): string;
} {
  const clients: Redis[] = [];
  const prefixes: string[] = [];
  afterAll(async () => {
    const admin = await connectRedis();
    for (const prefix of prefixes) await deleteKeys(admin, prefix);
    await admin.quit();
    await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
  });
  return {
    async client() {
      const client = await connectRedis();
      clients.push(client);
      return client;
    },
    prefix(name) {
      const prefix = uniquePrefix(name);
      prefixes.push(prefix);
      return prefix;
    },
  };
}

export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

export const TestEvent = defineEvent({
  type: 'outbox.test-event',
  schema: z.object({ key: z.string(), n: z.number() }),
  description: 'An event of the Redis outbox tests',
  channel: 'outbox-tests',
  partitionKey: (data) => data.key,
});

const producer = createBus({ transport: new InMemoryTransport(), source: '/tests/outbox' });

/** The nth event of `key`, prepared the way a service would before writing it to the outbox. */
export const prepareEvent = (key: string, n: number): PreparedEvent =>
  producer.prepare(TestEvent, { key, n });

/** What a fake broker saw: `<key>:<sequence>` per publish, in publish order. */
export interface OrderReport {
  /** Keys whose events were seen in a wrong order, with the first offence. */
  readonly violations: string[];
  /** Publishes beyond the first of the same row. */
  readonly duplicates: number;
  /** Highest gap-free sequence seen per key. */
  readonly prefix: Map<string, number>;
}

/**
 * Per-key order under at-least-once: a row may be published again, but never
 * before every earlier row of its key was published at least once.
 */
export function checkOrder(published: readonly string[]): OrderReport {
  const prefix = new Map<string, number>();
  const seen = new Set<string>();
  const violations: string[] = [];
  let duplicates = 0;
  for (const entry of published) {
    const at = entry.lastIndexOf(':');
    const key = entry.slice(0, at);
    const sequence = Number(entry.slice(at + 1));
    if (seen.has(entry)) duplicates += 1;
    seen.add(entry);
    const done = prefix.get(key) ?? 0;
    if (sequence > done + 1) {
      if (!violations.some((v) => v.startsWith(`${key}:`)))
        violations.push(`${key}: ${sequence} before ${done + 1}`);
    } else if (sequence === done + 1) {
      prefix.set(key, sequence);
    }
  }
  return { violations, duplicates, prefix };
}

const fixtures = fileURLToPath(new URL('../redis/fixtures/', import.meta.url));

/** A Node child process running a TypeScript fixture, with its stdout as lines. */
export interface Fixture {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first line (already printed or to come) that matches. */
  line(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
}

export function spawnFixture(name: string, args: readonly string[]): Fixture {
  const child = spawn(process.execPath, ['--import', 'tsx', `${fixtures}${name}`, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, REDIS_HOST, REDIS_PORT: String(REDIS_PORT) },
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buffered = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      for (const wake of waiters.splice(0)) wake();
      resolve();
    }),
  );
  return {
    child,
    lines,
    line(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `fixture ${name} printed no matching line; it printed ${lines.length} lines`,
              ),
            ),
          timeoutMs,
        );
        const check = (): void => {
          const found = lines.find(match);
          if (found !== undefined) {
            clearTimeout(timer);
            resolve(found);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`fixture ${name} exited with ${child.exitCode}`));
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
