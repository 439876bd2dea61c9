/**
 * Proves the published artifact works: packs @edakit/core with `npm pack`, installs the tarball
 * into a scratch project outside the repo, then loads it from ESM and CommonJS and type-checks it
 * under `--module node16`. Needs `dist/` (turbo runs `build` before `test`) and npm registry access
 * for the `zod` dependency.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDir = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const repoRoot = resolve(packageDir, '../..');
const tscBin = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const setupTimeout = 180_000;

/** The parent `npm run` exports npm_* variables (prefix, workspace...) that must not leak. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== 'INIT_CWD') environment[key] = value;
  }
  environment.npm_config_update_notifier = 'false';
  return environment;
}

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: cleanEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: setupTimeout,
  });
}

function describeFailure(result: SpawnSyncReturns<string>): string {
  return `exit ${result.status}${result.error ? ` (${result.error.message})` : ''}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

function runOk(command: string, args: string[], cwd: string): string {
  const result = run(command, args, cwd);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${describeFailure(result)}`);
  }
  return result.stdout;
}

interface PackResult {
  filename: string;
  files: { path: string }[];
}

describe('packed @edakit/core', () => {
  let workDir = '';
  let projectDir = '';
  let packedFiles: string[] = [];

  beforeAll(() => {
    if (!existsSync(join(packageDir, 'dist', 'index.js'))) {
      throw new Error('packages/core/dist is missing: run `npm run build` first');
    }
    workDir = mkdtempSync(join(tmpdir(), 'edakit-pack-'));
    const packOutput = runOk('npm', ['pack', '--json', '--pack-destination', workDir], packageDir);
    const [packed] = JSON.parse(packOutput.slice(packOutput.indexOf('['))) as PackResult[];
    if (!packed) throw new Error(`npm pack printed no result: ${packOutput}`);
    packedFiles = packed.files.map((file) => file.path).sort();

    projectDir = join(workDir, 'project');
    mkdirSync(projectDir);
    // "commonjs" makes the plain .ts file below a CommonJS module under --module node16.
    writeFileSync(
      join(projectDir, 'package.json'),
      `${JSON.stringify({ name: 'edakit-pack-check', private: true, type: 'commonjs' }, null, 2)}\n`,
    );
    runOk(
      'npm',
      [
        'install',
        join(workDir, packed.filename),
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--no-package-lock',
      ],
      projectDir,
    );
  }, setupTimeout);

  afterAll(() => {
    if (workDir && !process.env.EDAKIT_KEEP_PACK_DIR) {
      rmSync(workDir, { recursive: true, force: true });
    }
  });

  it('ships dist for both module formats and no sources or tests', () => {
    for (const file of [
      'dist/index.js',
      'dist/index.cjs',
      'dist/index.d.ts',
      'dist/index.d.cts',
      'dist/testing/index.js',
      'dist/testing/index.cjs',
      'dist/testing/index.d.ts',
      'dist/testing/index.d.cts',
      'dist/prometheus/index.js',
      'dist/prometheus/index.cjs',
      'dist/prometheus/index.d.ts',
      'dist/prometheus/index.d.cts',
      'dist/opentelemetry/index.js',
      'dist/opentelemetry/index.cjs',
      'dist/opentelemetry/index.d.ts',
      'dist/opentelemetry/index.d.cts',
      'bin/edakit-catalog.mjs',
      'package.json',
    ]) {
      expect(packedFiles).toContain(file);
    }
    expect(packedFiles.filter((file) => /^(src|test)\//.test(file))).toEqual([]);
    expect(packedFiles.filter((file) => file.startsWith('dist/demo.'))).toEqual([]);
  });

  it('loads from an ES module', () => {
    writeFileSync(
      join(projectDir, 'esm-check.mjs'),
      "import { defineEvent } from '@edakit/core';\nconsole.log(typeof defineEvent);\n",
    );
    const result = run('node', ['esm-check.mjs'], projectDir);
    expect(result.status, describeFailure(result)).toBe(0);
    expect(result.stdout.trim()).toBe('function');
  });

  it('loads from CommonJS', () => {
    writeFileSync(
      join(projectDir, 'cjs-check.cjs'),
      "const { defineEvent } = require('@edakit/core');\nconsole.log(typeof defineEvent);\n",
    );
    const result = run('node', ['cjs-check.cjs'], projectDir);
    expect(result.status, describeFailure(result)).toBe(0);
    expect(result.stdout.trim()).toBe('function');
  });

  it('installs the edakit-catalog script, which runs on the installed package', () => {
    writeFileSync(
      join(projectDir, 'catalog.mjs'),
      [
        "import { defineCatalog, defineEvent } from '@edakit/core';",
        "import { z } from 'zod';",
        "const Pinged = defineEvent({ type: 'ping.sent', schema: z.object({ at: z.string() }), description: 'A ping' });",
        "export default defineCatalog({ title: 'Pings', version: '1.0.0', events: [{ contract: Pinged, producer: 'pinger', consumers: [] }] });",
        '',
      ].join('\n'),
    );
    const script = join(projectDir, 'node_modules', '.bin', 'edakit-catalog');
    const result = run(
      'node',
      [script, 'catalog.mjs', '--out', 'docs', '--asyncapi', 'asyncapi.json'],
      projectDir,
    );
    expect(result.status, describeFailure(result)).toBe(0);
    expect(existsSync(join(projectDir, 'docs', 'ping.sent.md'))).toBe(true);
    expect(existsSync(join(projectDir, 'asyncapi.json'))).toBe(true);
  });

  it('resolves @edakit/core/testing under import and require', () => {
    // Resolution only: loading it needs the optional vitest peer, which this project lacks.
    writeFileSync(
      join(projectDir, 'resolve-check.mjs'),
      [
        "import { createRequire } from 'node:module';",
        "import { fileURLToPath } from 'node:url';",
        'const require = createRequire(import.meta.url);',
        "console.log(fileURLToPath(import.meta.resolve('@edakit/core/testing')));",
        "console.log(require.resolve('@edakit/core/testing'));",
        "console.log(require.resolve('@edakit/core/package.json'));",
        '',
      ].join('\n'),
    );
    const result = run('node', ['resolve-check.mjs'], projectDir);
    expect(result.status, describeFailure(result)).toBe(0);
    const [esmPath, cjsPath, manifestPath] = result.stdout.trim().split('\n');
    expect(esmPath).toMatch(/[\\/]dist[\\/]testing[\\/]index\.js$/);
    expect(cjsPath).toMatch(/[\\/]dist[\\/]testing[\\/]index\.cjs$/);
    expect(manifestPath).toMatch(/[\\/]@edakit[\\/]core[\\/]package\.json$/);
  });

  it('type-checks from .ts (CommonJS), .mts and .cts under --module node16', () => {
    const source = [
      "import { defineEvent } from '@edakit/core';",
      '',
      'export type DefineEvent = typeof defineEvent;',
      'export const define: (...args: never[]) => unknown = defineEvent;',
      '',
    ].join('\n');
    for (const file of ['check.ts', 'check-esm.mts', 'check-cjs.cts']) {
      writeFileSync(join(projectDir, file), source);
    }
    const result = run(
      'node',
      [
        tscBin,
        '--noEmit',
        '--module',
        'node16',
        '--moduleResolution',
        'node16',
        '--strict',
        'check.ts',
        'check-esm.mts',
        'check-cjs.cts',
      ],
      projectDir,
    );
    expect(result.status, describeFailure(result)).toBe(0);
  });

  it(
    'publishes without @opentelemetry/api; @edakit/core/opentelemetry needs it, then loads and type-checks',
    () => {
      // @opentelemetry/api is an optional peer: npm did not install it (prom-client, installed
      // by the next test, depends on it).
      expect(existsSync(join(projectDir, 'node_modules', '@opentelemetry', 'api'))).toBe(false);
      writeFileSync(
        join(projectDir, 'no-tracing.mjs'),
        [
          "import { createBus, InMemoryTransport } from '@edakit/core';",
          "const bus = createBus({ transport: new InMemoryTransport(), source: '/check' });",
          'console.log(bus.state);',
          "await import('@edakit/core/opentelemetry').catch((error) => console.log(error.code));",
          '',
        ].join('\n'),
      );
      const without = run('node', ['no-tracing.mjs'], projectDir);
      expect(without.status, describeFailure(without)).toBe(0);
      expect(without.stdout.trim().split('\n')).toEqual(['idle', 'ERR_MODULE_NOT_FOUND']);

      runOk(
        'npm',
        [
          'install',
          '@opentelemetry/api@1',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          '--no-package-lock',
        ],
        projectDir,
      );
      const traced = [
        'const bus = createBus({',
        '  transport: new InMemoryTransport(),',
        "  source: '/check',",
        '  tracing: openTelemetry({ tracerProvider: trace.getTracerProvider() }),',
        '});',
        'console.log(typeof bus.publish, SpanAttributes.attempt);',
        '',
      ];
      writeFileSync(
        join(projectDir, 'tracing.mjs'),
        [
          "import { createBus, InMemoryTransport } from '@edakit/core';",
          "import { openTelemetry, SpanAttributes } from '@edakit/core/opentelemetry';",
          "import { trace } from '@opentelemetry/api';",
          ...traced,
        ].join('\n'),
      );
      writeFileSync(
        join(projectDir, 'tracing.cjs'),
        [
          "const { createBus, InMemoryTransport } = require('@edakit/core');",
          "const { openTelemetry, SpanAttributes } = require('@edakit/core/opentelemetry');",
          "const { trace } = require('@opentelemetry/api');",
          ...traced,
        ].join('\n'),
      );
      for (const file of ['tracing.mjs', 'tracing.cjs']) {
        const result = run('node', [file], projectDir);
        expect(result.status, describeFailure(result)).toBe(0);
        expect(result.stdout.trim()).toBe('function edakit.attempt');
      }

      const source = [
        "import type { BusTracing } from '@edakit/core';",
        "import { openTelemetry, type OpenTelemetryOptions } from '@edakit/core/opentelemetry';",
        '',
        'export const options: OpenTelemetryOptions = {};',
        'export const tracing: BusTracing = openTelemetry(options);',
        '',
      ].join('\n');
      for (const file of ['trace.ts', 'trace-esm.mts', 'trace-cjs.cts']) {
        writeFileSync(join(projectDir, file), source);
      }
      const types = run(
        'node',
        [
          tscBin,
          '--noEmit',
          '--module',
          'node16',
          '--moduleResolution',
          'node16',
          '--strict',
          'trace.ts',
          'trace-esm.mts',
          'trace-cjs.cts',
        ],
        projectDir,
      );
      expect(types.status, describeFailure(types)).toBe(0);
    },
    setupTimeout,
  );

  it(
    'answers health without prom-client; @edakit/core/prometheus needs it, then loads and type-checks',
    () => {
      // prom-client is an optional peer: npm did not install it.
      expect(existsSync(join(projectDir, 'node_modules', 'prom-client'))).toBe(false);
      writeFileSync(
        join(projectDir, 'health-check.mjs'),
        [
          "import { healthCheck } from '@edakit/core';",
          'console.log((await healthCheck({})).status);',
          "await import('@edakit/core/prometheus').catch((error) => console.log(error.code));",
          '',
        ].join('\n'),
      );
      const without = run('node', ['health-check.mjs'], projectDir);
      expect(without.status, describeFailure(without)).toBe(0);
      expect(without.stdout.trim().split('\n')).toEqual(['up', 'ERR_MODULE_NOT_FOUND']);

      runOk(
        'npm',
        [
          'install',
          'prom-client@15',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          '--no-package-lock',
        ],
        projectDir,
      );
      const scrape = [
        'const metrics = prometheusMetrics({ registry: new Registry() });',
        "metrics.saga.onSagaStarted?.({ saga: 'checkout' });",
        'metrics.registry.metrics().then((text) => {',
        '  console.log(text.includes(\'edakit_saga_instances_started_total{saga="checkout"} 1\'));',
        '  metrics.close();',
        '});',
        '',
      ];
      writeFileSync(
        join(projectDir, 'metrics.mjs'),
        [
          "import { prometheusMetrics } from '@edakit/core/prometheus';",
          "import { Registry } from 'prom-client';",
          ...scrape,
        ].join('\n'),
      );
      writeFileSync(
        join(projectDir, 'metrics.cjs'),
        [
          "const { prometheusMetrics } = require('@edakit/core/prometheus');",
          "const { Registry } = require('prom-client');",
          ...scrape,
        ].join('\n'),
      );
      for (const file of ['metrics.mjs', 'metrics.cjs']) {
        const result = run('node', [file], projectDir);
        expect(result.status, describeFailure(result)).toBe(0);
        expect(result.stdout.trim()).toBe('true');
      }

      const source = [
        "import { healthHandler, type HealthReport } from '@edakit/core';",
        "import { metricsHandler, prometheusMetrics, type PrometheusMetrics } from '@edakit/core/prometheus';",
        '',
        'export const metrics: PrometheusMetrics = prometheusMetrics();',
        'export const handlers = [metricsHandler(metrics.registry), healthHandler({})];',
        "export type Status = HealthReport['status'];",
        '',
      ].join('\n');
      for (const file of ['observe.ts', 'observe-esm.mts', 'observe-cjs.cts']) {
        writeFileSync(join(projectDir, file), source);
      }
      const types = run(
        'node',
        [
          tscBin,
          '--noEmit',
          '--module',
          'node16',
          '--moduleResolution',
          'node16',
          '--strict',
          'observe.ts',
          'observe-esm.mts',
          'observe-cjs.cts',
        ],
        projectDir,
      );
      expect(types.status, describeFailure(types)).toBe(0);
    },
    setupTimeout,
  );
});
