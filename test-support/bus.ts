import type { Bus, Logger } from '@edakit/core';
import { uniqueNamespace, waitFor } from '@edakit/core/testing';

/** A fresh prefix for topics, queues and groups of one test. */
export const namespace = (prefix = 'it'): string => uniqueNamespace(prefix);

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the bus and waits until its consumers are consuming (health `up`). */
export async function startHealthy(bus: Bus, timeoutMs = 60_000): Promise<void> {
  await bus.start();
  await waitFor(async () => (await bus.health()).status === 'up', {
    timeoutMs,
    intervalMs: 50,
    description: 'the bus to report healthy',
  });
}

/** Stops every bus of a test (and empties the list), ignoring stop errors. */
export async function stopAll(buses: Bus[], deadlineMs = 1_000): Promise<void> {
  await Promise.all(buses.splice(0).map((bus) => bus.stop({ deadlineMs }).catch(() => undefined)));
}

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** A Logger that keeps every entry, for assertions. */
export function capturingLogger(): Logger & { readonly entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (fields: Record<string, unknown>, message: string): void => {
      entries.push({ level, fields, message });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
