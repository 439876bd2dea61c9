/**
 * Throughput and CPU cost per event of @edakit/core: codec (encode+validate,
 * decode+validate, decode+upcast+validate) and the in-memory bus
 * (publish -> handle), next to raw JSON + zod baselines.
 *
 * Run from the repository root: `npm run bench` (builds first), or
 * `node --import tsx bench/core.bench.ts` when dist is fresh.
 * Env: BENCH_SCALE (multiplies every event count, e.g. 0.1 for a smoke run),
 * BENCH_ROUNDS (measured rounds per scenario, default 3; the median is reported),
 * BENCH_ONLY (comma-separated row ids to run, e.g. `encode,B2`; for profiling).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  createBus,
  createEnvelope,
  encodeEnvelope,
  InMemoryTransport,
  on,
  parseWireMessage,
  toEnvelope,
  validate,
  type WireMessage,
} from '@edakit/core';
import {
  makeOrdersV1,
  OrderPlacedV1,
  OrderPlacedV3,
  type OrderV1Input,
  type OrderV3Input,
  toV3,
} from './order-fixtures';

// ---------------------------------------------------------------- settings

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_ROUNDS ?? 3)));
const scaled = (n: number): number => Math.max(100, Math.round(n * SCALE));
const CODEC_N = scaled(50_000);
const BUS_N = scaled(20_000);
const CODEC_WARMUP = scaled(10_000);
const BUS_WARMUP = scaled(5_000);
const POOL = 1024; // distinct payloads, cycled
const BATCH = 500;
const CONCURRENCY = 16;
const SOURCE = '/services/orders';

// A collected gc() lets every round start from a clean heap, so one row's
// garbage is not billed to the next. Works without --expose-gc on the CLI.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Keeps results observable so the optimiser cannot drop the work. */
let sink = 0;

// ---------------------------------------------------------------- data

const ordersV1 = makeOrdersV1(POOL);
const ordersV3: OrderV3Input[] = ordersV1.map(toV3);
const schemaV3 = OrderPlacedV3.schema;

const encodeV3 = (order: OrderV3Input): WireMessage =>
  encodeEnvelope(createEnvelope(OrderPlacedV3, validate(OrderPlacedV3, order), SOURCE));
const encodeV1 = (order: OrderV1Input): WireMessage =>
  encodeEnvelope(createEnvelope(OrderPlacedV1, validate(OrderPlacedV1, order), SOURCE));
const wireV3 = ordersV3.map(encodeV3);
const wireV1 = ordersV1.map(encodeV1);
const bodiesV3 = wireV3.map((message) => Buffer.from(message.body));

const avg = (list: readonly number[]): number => list.reduce((a, b) => a + b, 0) / list.length;
const payloadBytes = Math.round(avg(wireV3.map((m) => m.body.byteLength)));
const payloadBytesV1 = Math.round(avg(wireV1.map((m) => m.body.byteLength)));
const headerBytes = Math.round(
  avg(
    wireV3.map((m) =>
      Object.entries(m.headers).reduce(
        (sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v),
        0,
      ),
    ),
  ),
);

// Sanity: the upcast path really produces v3 data.
{
  const event = toEnvelope(parseWireMessage(wireV1[0] as WireMessage), OrderPlacedV3);
  const v1 = ordersV1[0] as OrderV1Input;
  if (
    event.dataversion !== 3 ||
    event.data.currency !== 'USD' ||
    event.data.totalAmount !== v1.total ||
    'total' in event.data
  ) {
    throw new Error(`upcast sanity check failed: ${JSON.stringify(event.data)}`);
  }
}

// ---------------------------------------------------------------- measuring

interface Sample {
  readonly events: number;
  readonly seconds: number;
  /** user + system CPU of the whole process (main thread, GC and libuv threads). */
  readonly cpuMicros: number;
}

const perEvent = (s: Sample): number => s.cpuMicros / s.events;
const rate = (s: Sample): number => s.events / s.seconds;

function begin(): () => { seconds: number; cpuMicros: number } {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  return () => {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const used = process.cpuUsage(cpu);
    return { seconds, cpuMicros: used.user + used.system };
  };
}

function loop(n: number, step: (i: number) => void): Sample {
  gc();
  const end = begin();
  for (let i = 0; i < n; i++) step(i);
  return { events: n, ...end() };
}

async function busRound(n: number, mode: 'publish' | 'batch'): Promise<Sample> {
  const transport = new InMemoryTransport();
  const bus = createBus({ transport, source: SOURCE });
  let seen = 0;
  let finish: () => void = () => undefined;
  const allHandled = new Promise<void>((resolve) => {
    finish = resolve;
  });
  bus.subscribe({
    group: 'bench',
    concurrency: CONCURRENCY,
    handlers: [
      on(OrderPlacedV3, (event) => {
        sink += event.data.items.length;
        if (++seen === n) finish();
      }),
    ],
  });
  await bus.start();
  gc();
  const end = begin();
  if (mode === 'publish') {
    for (let i = 0; i < n; i++) {
      await bus.publish(OrderPlacedV3, ordersV3[i % POOL] as OrderV3Input);
    }
  } else {
    for (let i = 0; i < n; i += BATCH) {
      const batch = [];
      for (let j = i; j < Math.min(n, i + BATCH); j++) {
        batch.push(bus.prepare(OrderPlacedV3, ordersV3[j % POOL] as OrderV3Input));
      }
      await bus.publishBatch(batch);
    }
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(async () => {
      const health = await bus.health();
      reject(
        new Error(
          `bus ${mode}: handler saw ${seen}/${n} events after 60 s: ${JSON.stringify(health.transport.details)}`,
        ),
      );
    }, 60_000);
  });
  await Promise.race([allHandled, timeout]);
  clearTimeout(timer);
  const measured = end();
  await bus.stop();
  return { events: n, ...measured };
}

// ---------------------------------------------------------------- scenarios

interface Scenario {
  readonly id: string;
  readonly name: string;
  readonly events: number;
  readonly warmup: number;
  /** Id of the baseline this row is compared with. */
  readonly baseline?: string;
  run(n: number): Sample | Promise<Sample>;
}

const allScenarios: Scenario[] = [
  {
    id: 'encode',
    name: 'encode+validate',
    events: CODEC_N,
    warmup: CODEC_WARMUP,
    baseline: 'B2',
    run: (n) =>
      loop(n, (i) => {
        const data = validate(OrderPlacedV3, ordersV3[i % POOL]);
        const message = encodeEnvelope(createEnvelope(OrderPlacedV3, data, SOURCE));
        sink += message.body.byteLength;
      }),
  },
  {
    id: 'decode',
    name: 'decode+validate (v3->v3)',
    events: CODEC_N,
    warmup: CODEC_WARMUP,
    baseline: 'B3',
    run: (n) =>
      loop(n, (i) => {
        const event = toEnvelope(parseWireMessage(wireV3[i % POOL] as WireMessage), OrderPlacedV3);
        sink += event.data.items.length;
      }),
  },
  {
    id: 'upcast',
    name: 'decode+upcast(v1->v3)+validate',
    events: CODEC_N,
    warmup: CODEC_WARMUP,
    baseline: 'B3',
    run: (n) =>
      loop(n, (i) => {
        const event = toEnvelope(parseWireMessage(wireV1[i % POOL] as WireMessage), OrderPlacedV3);
        sink += event.data.items.length;
      }),
  },
  {
    id: 'bus-publish',
    name: `memory bus await publish->handle (c=${CONCURRENCY})`,
    events: BUS_N,
    warmup: BUS_WARMUP,
    baseline: 'B4',
    run: (n) => busRound(n, 'publish'),
  },
  {
    id: 'bus-batch',
    name: `memory bus publishBatch(${BATCH})->handle (c=${CONCURRENCY})`,
    events: BUS_N,
    warmup: BUS_WARMUP,
    baseline: 'B4',
    run: (n) => busRound(n, 'batch'),
  },
  {
    id: 'B1',
    name: 'B1 baseline JSON.stringify+Buffer.from',
    events: CODEC_N,
    warmup: CODEC_WARMUP,
    run: (n) =>
      loop(n, (i) => {
        sink += Buffer.from(JSON.stringify(ordersV3[i % POOL]), 'utf8').byteLength;
      }),
  },
  {
    id: 'B2',
    name: 'B2 baseline safeParse+stringify+Buffer.from',
    events: CODEC_N,
    warmup: CODEC_WARMUP,
    run: (n) =>
      loop(n, (i) => {
        const result = schemaV3.safeParse(ordersV3[i % POOL]);
        if (!result.success) throw result.error;
        sink += Buffer.from(JSON.stringify(result.data), 'utf8').byteLength;
      }),
  },
  {
    id: 'B3',
    name: 'B3 baseline toString+JSON.parse+safeParse',
    events: CODEC_N,
    warmup: CODEC_WARMUP,
    run: (n) =>
      loop(n, (i) => {
        const body = bodiesV3[i % POOL] as Buffer;
        const result = schemaV3.safeParse(JSON.parse(body.toString('utf8')));
        if (!result.success) throw result.error;
        sink += result.data.items.length;
      }),
  },
  {
    id: 'B4',
    name: 'B4 baseline round trip (B2 then B3)',
    events: CODEC_N,
    warmup: CODEC_WARMUP,
    run: (n) =>
      loop(n, (i) => {
        const out = schemaV3.safeParse(ordersV3[i % POOL]);
        if (!out.success) throw out.error;
        const body = Buffer.from(JSON.stringify(out.data), 'utf8');
        const back = schemaV3.safeParse(JSON.parse(body.toString('utf8')));
        if (!back.success) throw back.error;
        sink += back.data.items.length;
      }),
  },
];

const only = process.env.BENCH_ONLY?.split(',').map((id) => id.trim());
const scenarios = only ? allScenarios.filter((s) => only.includes(s.id)) : allScenarios;
if (scenarios.length === 0) throw new Error(`BENCH_ONLY matches no row: ${process.env.BENCH_ONLY}`);

// ---------------------------------------------------------------- run

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const versionOf = (pkg: string): string =>
  (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string })
    .version;
const gitCommit = (): string | undefined => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: here,
      encoding: 'utf8',
    }).trim();
  } catch {
    return undefined;
  }
};

const startedAt = new Date();
// Objects, not arrays: keeps the JSON file stable under the repo's formatter.
const load = (): { '1m': number; '5m': number; '15m': number } => {
  const [one = 0, five = 0, fifteen = 0] = os.loadavg();
  return { '1m': one, '5m': five, '15m': fifteen };
};
const loadBefore = load();
console.log(
  `@edakit/core ${versionOf('@edakit/core')} (zod ${versionOf('zod')}), node ${process.version}, ` +
    `${os.cpus().length}x ${os.cpus()[0]?.model ?? 'cpu'}, load ${Object.values(loadBefore)
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
console.log(
  `payload: ${payloadBytes} B JSON body (v1 ${payloadBytesV1} B) + ${headerBytes} B headers, ` +
    `5 line items; ${ROUNDS} round(s) per row after warm-up, median by CPU/event reported\n`,
);

const samples = new Map<string, Sample[]>();
const run = async (scenario: Scenario, n: number): Promise<Sample> => scenario.run(n);

for (const scenario of scenarios) {
  await run(scenario, scenario.warmup);
  samples.set(scenario.id, []);
}
// Rounds go round-robin over the rows so slow drift (other tenants of the
// shared cores) spreads over every row instead of hitting one.
for (let round = 0; round < ROUNDS; round++) {
  for (const scenario of scenarios) {
    samples.get(scenario.id)?.push(await run(scenario, scenario.events));
  }
}

const median = (list: readonly Sample[]): Sample => {
  const sorted = [...list].sort((a, b) => perEvent(a) - perEvent(b));
  return sorted[Math.floor((sorted.length - 1) / 2)] as Sample;
};
const chosen = new Map(scenarios.map((s) => [s.id, median(samples.get(s.id) ?? [])]));

interface Row {
  id: string;
  scenario: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  cpuMicrosPerEvent: number;
  baseline?: string;
  cpuRatio?: number;
  throughputRatio?: number;
  rounds: Array<{ seconds: number; eventsPerSecond: number; cpuMicrosPerEvent: number }>;
}

const rows: Row[] = scenarios.map((scenario) => {
  const sample = chosen.get(scenario.id) as Sample;
  const base = scenario.baseline === undefined ? undefined : chosen.get(scenario.baseline);
  return {
    id: scenario.id,
    scenario: scenario.name,
    events: sample.events,
    seconds: sample.seconds,
    eventsPerSecond: rate(sample),
    cpuMicrosPerEvent: perEvent(sample),
    ...(base && {
      baseline: scenario.baseline,
      cpuRatio: perEvent(sample) / perEvent(base),
      throughputRatio: rate(sample) / rate(base),
    }),
    rounds: (samples.get(scenario.id) ?? []).map((s) => ({
      seconds: s.seconds,
      eventsPerSecond: rate(s),
      cpuMicrosPerEvent: perEvent(s),
    })),
  };
});

const int = (value: number): string => Math.round(value).toLocaleString('en-US');
const table = [
  [
    'scenario',
    'events',
    'seconds',
    'events/s',
    'CPU µs/event',
    'CPU ×base',
    'events/s ÷base',
    'base',
  ],
  ...rows.map((row) => [
    row.scenario,
    int(row.events),
    row.seconds.toFixed(3),
    int(row.eventsPerSecond),
    row.cpuMicrosPerEvent.toFixed(2),
    row.cpuRatio === undefined ? '' : `${row.cpuRatio.toFixed(2)}×`,
    row.throughputRatio === undefined ? '' : row.throughputRatio.toFixed(2),
    row.baseline ?? '',
  ]),
];
const widths = (table[0] as string[]).map((_, c) =>
  Math.max(...table.map((r) => (r[c] ?? '').length)),
);
const line = (cells: string[]): string =>
  cells
    .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
    .join('  ');
console.log(line(table[0] as string[]));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of table.slice(1)) console.log(line(row));

const loadAfter = load();
const spread = rows
  .map((row) => {
    const cpus = row.rounds.map((r) => r.cpuMicrosPerEvent);
    return `${row.id} ${Math.min(...cpus).toFixed(2)}-${Math.max(...cpus).toFixed(2)}`;
  })
  .join(', ');
console.log(`\nCPU µs/event min-max over rounds: ${spread}`);
console.log(
  `load after: ${Object.values(loadAfter)
    .map((l) => l.toFixed(2))
    .join(' ')}; checksum ${sink}`,
);

const resultsDir = path.join(here, 'results');
mkdirSync(resultsDir, { recursive: true });
// Smoke and profiling runs (BENCH_SCALE, BENCH_ONLY) must not replace the day's full run.
const partial = SCALE !== 1 || only !== undefined ? '-partial' : '';
const file = path.join(resultsDir, `core-${startedAt.toISOString().slice(0, 10)}${partial}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      date: startedAt.toISOString(),
      commit: gitCommit(),
      versions: { edakit: versionOf('@edakit/core'), zod: versionOf('zod'), node: process.version },
      machine: {
        platform: `${os.platform()} ${os.arch()}`,
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        loadBefore,
        loadAfter,
      },
      settings: {
        scale: SCALE,
        rounds: ROUNDS,
        codecEvents: CODEC_N,
        busEvents: BUS_N,
        batch: BATCH,
        concurrency: CONCURRENCY,
        payloadBytes,
        payloadBytesV1,
        headerBytes,
      },
      results: rows,
    },
    null,
    2,
  )}\n`,
);
console.log(`results: ${path.relative(process.cwd(), file)}`);
