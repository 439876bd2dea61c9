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
