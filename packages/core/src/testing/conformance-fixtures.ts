import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { defineEvent } from '../contract/define-event';

/** A fresh, collision-free namespace per test: channels, groups and types. */
export function uniqueNamespace(prefix = 'ct'): string {
  return `${prefix}${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** The contract every conformance test publishes, on its own channel. */
export function conformanceContract(namespace: string) {
  return defineEvent({
    type: `${namespace}.happened`,
    schema: z.object({
      key: z.string(),
      seq: z.number().int().nonnegative(),
      note: z.string().optional(),
    }),
    description: 'Conformance test event',
    partitionKey: (data) => data.key,
  });
}

export type ConformanceContract = ReturnType<typeof conformanceContract>;

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Counts how many times each id was seen. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(id: string): void {
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }

  get distinct(): number {
    return this.counts.size;
  }

  get total(): number {
    let total = 0;
    for (const count of this.counts.values()) total += count;
    return total;
  }

  duplicates(): string[] {
    return [...this.counts].filter(([, count]) => count > 1).map(([id]) => id);
  }

  has(id: string): boolean {
    return this.counts.has(id);
  }
}
