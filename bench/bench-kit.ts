/**
 * What both broker benches share: the ~1 KB order event, the hand-written
 * CloudEvents work of the "raw + CE + zod" baselines, the measuring, the
 * best-round table with ratios against every baseline, and the results file.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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

export type OrderData = ReturnType<typeof order>;

// ---------------------------------------------------------------- raw + CE + zod
//
// What a careful user of the bare client writes to get what edakit gives: the
// same CloudEvents binary-mode headers built by hand, the payload validated
// and JSON-encoded on publish; on consume, header bytes to strings, the
// required attributes checked, JSON.parse and validation. No retries, no
// dead letters, no upcasting: the floor of doing edakit's per-event work.

/** Header names of one CloudEvents binding, built once. */
export interface CeNaming {
  /** `ce_` (Kafka), `cloudEvents_` (AMQP). */
  readonly prefix: string;
  /** The content-type header, when the binding carries it as a header (Kafka). */
  readonly contentType?: string;
}

/**
 * The CloudEvents headers edakit writes for an Order published without
 * options, in the same order: id from crypto.randomUUID, time from
 * new Date().toISOString(), the order id as partition key.
 */
export function ceHeaderBuilder(naming: CeNaming, source: string) {
  const p = naming.prefix;
  const names = {
    specversion: `${p}specversion`,
    id: `${p}id`,
    source: `${p}source`,
    type: `${p}type`,
    dataversion: `${p}dataversion`,
    correlationid: `${p}correlationid`,
    time: `${p}time`,
    partitionkey: `${p}partitionkey`,
  };
  const contentType = naming.contentType;
  return (partitionKey: string): Record<string, string> => {
    const id = randomUUID();
    const headers: Record<string, string> = {};
    headers[names.specversion] = '1.0';
    headers[names.id] = id;
    headers[names.source] = source;
    headers[names.type] = Order.type;
    headers[names.dataversion] = '1';
    headers[names.correlationid] = id;
    if (contentType !== undefined) headers[contentType] = 'application/json';
    headers[names.time] = new Date().toISOString();
    headers[names.partitionkey] = partitionKey;
    return headers;
  };
}

/** zod safeParse, then JSON.stringify into bytes: the validated body. */
export function encodeValidated(item: OrderData): Buffer {
  const parsed = Order.schema.safeParse(item);
  if (!parsed.success) throw new Error(`invalid order: ${parsed.error.message}`);
  return Buffer.from(JSON.stringify(parsed.data));
}

/** A consumed event, as the raw + CE + zod consumers hand it to their handler. */
export interface RawCeEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time: string | undefined;
  readonly dataversion: number;
  readonly partitionkey: string | undefined;
  readonly data: OrderData;
}

/**
 * Header strings + body -> validated event: the required attributes checked
 * (specversion 1.0, id, source, type), dataversion read, JSON.parse, zod.
 */
export function ceDecoder(prefix: string) {
  const names = {
    specversion: `${prefix}specversion`,
    id: `${prefix}id`,
    source: `${prefix}source`,
    type: `${prefix}type`,
    dataversion: `${prefix}dataversion`,
    time: `${prefix}time`,
    partitionkey: `${prefix}partitionkey`,
  };
  return (headers: Readonly<Record<string, string>>, body: Buffer): RawCeEvent => {
    const id = headers[names.id];
    const source = headers[names.source];
    const type = headers[names.type];
    if (headers[names.specversion] !== '1.0' || !id || !source || type !== Order.type) {
      throw new Error('not an Order CloudEvent');
    }
    const parsed = Order.schema.safeParse(JSON.parse(body.toString()));
    if (!parsed.success) throw new Error(`invalid order: ${parsed.error.message}`);
    return {
      id,
      source,
      type,
      time: headers[names.time],
      dataversion: Number(headers[names.dataversion] ?? 1),
      partitionkey: headers[names.partitionkey],
      data: parsed.data,
    };
  };
}

/** Client headers (Buffers, strings, arrays of them) as strings: what a consumer reads. */
export function headerStrings(
  headers: Readonly<Record<string, unknown>> | undefined,
): Record<string, string> {
  const result: Record<string, string> = {};
  if (!headers) return result;
  for (const name in headers) {
    const value = headers[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (first === undefined || first === null) continue;
    result[name] = typeof first === 'string' ? first : String(first);
  }
  return result;
}

// ---------------------------------------------------------------- measuring

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

const WIDTH = 30;

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
      `  round: ${row.scenario.padEnd(WIDTH)} ${Math.round(row.perSecond).toLocaleString('en').padStart(9)} ev/s ${row.cpuMicrosPerEvent.toFixed(1).padStart(7)} µs CPU/ev`,
    );
  }

  /** Prints the table and returns its rows. */
  table(): Row[] {
    const rows = [...this.best.values()];
    console.log(`\n${'scenario'.padEnd(WIDTH)}  events/s   CPU µs/event   seconds`);
    for (const row of rows) {
      console.log(
        `${row.scenario.padEnd(WIDTH)} ${Math.round(row.perSecond).toLocaleString('en').padStart(9)}   ${row.cpuMicrosPerEvent.toFixed(1).padStart(11)}   ${row.seconds.toFixed(2).padStart(7)}`,
      );
    }
    return rows;
  }

  /**
   * Prints and returns edakit's ratio against every baseline: throughput
   * (edakit / raw, higher is better, 1.00 = as fast) and CPU per event
   * (edakit / raw, lower is better, 1.00 = as cheap).
   */
  ratios(edakit: string, baselines: readonly string[]): Record<string, Ratio> {
    const result: Record<string, Ratio> = {};
    for (const baseline of baselines) {
      if (!this.best.has(edakit) || !this.best.has(baseline)) continue;
      const r = this.ratio(edakit, baseline);
      result[baseline] = r;
      console.log(
        `${`${edakit} / ${baseline}`.padEnd(58)} ${r.throughput.toFixed(2)}x throughput   ${r.cpu.toFixed(2)}x CPU/event`,
      );
    }
    return result;
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

// ---------------------------------------------------------------- run settings and results

/** BENCH_ONLY=comma,separated,row names (or prefixes): for profiling one row. */
export function selectedRows(): (scenario: string) => boolean {
  const only = process.env.BENCH_ONLY?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return (scenario) => !only || only.some((name) => scenario.startsWith(name));
}

/** Load averages (1, 5, 15 min): the box is shared, figures depend on them. */
export function loadAverage(): { '1m': number; '5m': number; '15m': number } {
  const [one = 0, five = 0, fifteen = 0] = os.loadavg();
  return { '1m': one, '5m': five, '15m': fifteen };
}

export function formatLoad(load: ReturnType<typeof loadAverage>): string {
  return `${load['1m'].toFixed(2)} ${load['5m'].toFixed(2)} ${load['15m'].toFixed(2)}`;
}

/** Writes bench/results/<name>-<date>.json (git-ignored). */
export function writeResults(name: string, results: Record<string, unknown>): void {
  const folder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(folder, { recursive: true });
  const partial = process.env.BENCH_ONLY ? '-partial' : '';
  writeFileSync(
    path.join(folder, `${name}-${new Date().toISOString().slice(0, 10)}${partial}.json`),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, ...results }, null, 2)}\n`,
  );
}
