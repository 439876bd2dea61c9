/**
 * The edakit-catalog script, run as users run it: node on bin/edakit-catalog.mjs, which
 * imports the built package. Needs dist/ (turbo builds before test; by hand:
 * `npm run build -w @edakit/core`).
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDir = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const script = join(packageDir, 'bin', 'edakit-catalog.mjs');
const fixtures = join(packageDir, 'test', 'catalog', 'fixtures');

function run(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [script, ...args], {
    cwd: packageDir,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

const outcome = (result: SpawnSyncReturns<string>) =>
  `exit ${result.status}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;

describe('edakit-catalog', () => {
  let workDir = '';

  beforeAll(() => {
    if (!existsSync(join(packageDir, 'dist', 'index.js'))) {
      throw new Error('packages/core/dist is missing: run `npm run build -w @edakit/core` first');
    }
    workDir = mkdtempSync(join(tmpdir(), 'edakit-catalog-'));
  });

  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('writes the pages and a valid AsyncAPI document of a named export', async () => {
    const out = join(workDir, 'docs', 'events');
    const asyncapi = join(workDir, 'api', 'asyncapi.json');
    const result = run(
      join(fixtures, 'shop-catalog.mjs'),
      '--export',
      'shop',
      '--out',
      out,
      '--asyncapi',
      asyncapi,
    );
    expect(result.status, outcome(result)).toBe(0);
    expect(result.stdout).toContain(`Wrote 3 pages to ${out}`);
    expect(readdirSync(out).sort()).toEqual([
      'index.md',
      'order.placed.md',
      'payment.requested.md',
    ]);
    const order = readFileSync(join(out, 'order.placed.md'), 'utf8');
    expect(order).toContain('| `currency` | `string` | yes | length 3 |  |');
    expect(order).toContain('| 2 (current) | Adds currency; v1 orders were in USD | read as is |');
    expect(readFileSync(join(out, 'index.md'), 'utf8')).toContain('## billing');

    const document = JSON.parse(readFileSync(asyncapi, 'utf8')) as Record<string, unknown>;
    expect(document.asyncapi).toBe('3.0.0');
    const diagnostics = await new Parser().validate(document as { asyncapi: string });
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    expect(errors.map((d) => d.message)).toEqual([]);
  });

  it('writes only the AsyncAPI document when no --out is given', () => {
    const asyncapi = join(workDir, 'only.json');
    const result = run(join(fixtures, 'shop-catalog.mjs'), '--export=shop', '--asyncapi', asyncapi);
    expect(result.status, outcome(result)).toBe(0);
    expect(existsSync(asyncapi)).toBe(true);
    expect(result.stdout).not.toContain('pages');
  });

  it('documents structured messages with --content-mode structured', async () => {
    const asyncapi = join(workDir, 'structured.json');
    const result = run(
      join(fixtures, 'shop-catalog.mjs'),
      '--export=shop',
      '--asyncapi',
      asyncapi,
      '--content-mode',
      'structured',
    );
    expect(result.status, outcome(result)).toBe(0);
    const document = JSON.parse(readFileSync(asyncapi, 'utf8')) as {
      components: { messages: Record<string, { contentType: string; payload: object }> };
    };
    const messages = Object.values(document.components.messages);
    expect(messages.length).toBeGreaterThan(0);
    for (const message of messages) {
      expect(message.contentType).toBe('application/cloudevents+json');
      expect(message.payload).toHaveProperty('properties.data');
    }
    const diagnostics = await new Parser().validate(document as unknown as { asyncapi: string });
    expect(diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error)).toEqual([]);
  });

  it.each([
    [
      ['shop.mjs', '--asyncapi', 'a.json', '--content-mode', 'compact'],
      /--content-mode is binary or structured, got "compact"/,
    ],
    [['shop.mjs', '--out', 'x', '--content-mode', 'structured'], /give --asyncapi <file\.json>/],
    [['--out', 'x'], /Give the module that exports the catalog/],
    [['a.mjs', 'b.mjs', '--out', 'x'], /Give one module, got 2/],
    [['shop.mjs'], /Nothing to write: give --out/],
    [['shop.mjs', '--asyncapi', 'api.yaml'], /--asyncapi writes JSON/],
    [['shop.mjs', '--bogus'], /Unknown option '--bogus'/],
    [['missing.mjs', '--out', 'x'], /No module at .*missing\.mjs/],
  ])('exits with 2 and the usage on bad arguments: %j', (args, message) => {
    const result = run(...args);
    expect(result.status, outcome(result)).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Usage: edakit-catalog <module>');
  });

  it('exits with 2 when the export is missing or not a catalog, naming the catalogs found', () => {
    const module = join(fixtures, 'shop-catalog.mjs');
    const missing = run(module, '--out', join(workDir, 'x'));
    expect(missing.status, outcome(missing)).toBe(2);
    expect(missing.stderr).toContain('has no export "default"; it exports catalogs as: shop');
    const wrong = run(module, '--export', 'notACatalog', '--out', join(workDir, 'x'));
    expect(wrong.status, outcome(wrong)).toBe(2);
    expect(wrong.stderr).toContain('The export "notACatalog"');
    expect(wrong.stderr).toContain('is not a catalog: build it with defineCatalog');
  });

  it('exits with 1 and the error code when the catalog itself is invalid', () => {
    const result = run(join(fixtures, 'broken-catalog.mjs'), '--out', join(workDir, 'broken'));
    expect(result.status, outcome(result)).toBe(1);
    expect(result.stderr).toContain('EDAKIT_INVALID_CATALOG: "order.placed" needs a producer');
    expect(result.stderr).not.toContain('Usage:');
    expect(existsSync(join(workDir, 'broken'))).toBe(false);
  });

  it('prints the usage on --help', () => {
    const result = run('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Exit codes: 0 done, 1 failed, 2 bad usage.');
  });
});
