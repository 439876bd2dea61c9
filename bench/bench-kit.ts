/** What both broker benches share: the ~1 KB order event and the measuring. */
import { defineEvent } from '@edakit/core';
import { z } from 'zod';

export const Order = defineEvent({
  type: 'benchorder.placed',
  schema: z.object({
    orderId: z.string(),
    customerId: z.string(),
    lines: z.array(
      z.object({
        sku: z.string(),
        name: z.string(),
        quantity: z.number().int(),
        price: z.number(),
      }),
    ),
    total: z.number(),
    currency: z.string().length(3),
    note: z.string(),
  }),
  description: 'Benchmark order',
  partitionKey: (order) => order.orderId,
});

export function order(i: number) {
  return {
    orderId: `order-${i}`,
    customerId: `customer-${i % 997}`,
    lines: Array.from({ length: 5 }, (_, line) => ({
      sku: `sku-${line}-${i % 50}`,
      name: `Product number ${line}`,
      quantity: 1 + (line % 3),
      price: 9.99 + line,
    })),
    total: 123.45,
    currency: 'EUR',
    note: 'x'.repeat(560), // brings the JSON body to about 1 KB
  };
}

export interface Row {
  readonly scenario: string;
  readonly events: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly cpuMicrosPerEvent: number;
}

export async function measure(
  scenario: string,
  events: number,
  work: () => Promise<void>,
): Promise<Row> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return {
    scenario,
    events,
    seconds,
    perSecond: events / seconds,
    cpuMicrosPerEvent: (used.user + used.system) / events,
  };
}

export interface Ratio {
  readonly throughput: number;
  readonly cpu: number;
}

/**
 * Keeps, per scenario, the round with the lowest CPU per event (the steady
 * figure on a shared machine), prints each round and the final table.
 */
export class BestRounds {
  private readonly best = new Map<string, Row>();

  keep(row: Row): void {
    const current = this.best.get(row.scenario);
    if (!current || row.cpuMicrosPerEvent < current.cpuMicrosPerEvent)
      this.best.set(row.scenario, row);
    console.log(
      `  round: ${row.scenario.padEnd(26)} ${Math.round(row.perSecond).toLocaleString('en').padStart(9)} ev/s ${row.cpuMicrosPerEvent.toFixed(1).padStart(7)} µs CPU/ev`,
    );
  }

  /** Prints the table and returns its rows. */
  table(): Row[] {
    const rows = [...this.best.values()];
    console.log('\nscenario                    events/s   CPU µs/event   seconds');
    for (const row of rows) {
      console.log(
        `${row.scenario.padEnd(26)} ${Math.round(row.perSecond).toLocaleString('en').padStart(9)}   ${row.cpuMicrosPerEvent.toFixed(1).padStart(11)}   ${row.seconds.toFixed(2).padStart(7)}`,
      );
    }
    return rows;
  }

  ratio(edakit: string, raw: string): Ratio {
    const e = this.best.get(edakit) as Row;
    const r = this.best.get(raw) as Row;
    return {
      throughput: e.perSecond / r.perSecond,
      cpu: e.cpuMicrosPerEvent / r.cpuMicrosPerEvent,
    };
  }
}
