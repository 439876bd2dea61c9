import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { testUrl } from '../support/integration';

// The README's example must compile against the built packages and run on the real broker.
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const repo = resolve(packageDir, '../..');
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
const folder = mkdtempSync(join(packageDir, 'test/readme/.example-'));
const file = join(folder, 'readme.ts');

afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('README example', () => {
  it('type-checks and prints "billed o-1" against the real broker', () => {
    writeFileSync(file, example);
    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    const args = [
      tsc,
      '--noEmit',
      '--strict',
      '--target',
      'es2022',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--types',
      'node',
      '--skipLibCheck',
      file,
    ];
    expect(() =>
      execFileSync(process.execPath, args, { cwd: repo, encoding: 'utf8', stdio: 'pipe' }),
    ).not.toThrow();
    // AMQP_URL points the example at this run's vhost (deleted after the run).
    const output = execFileSync(process.execPath, ['--import', 'tsx', file], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 90_000,
      env: { ...process.env, AMQP_URL: testUrl() },
    });
    expect(output.trim()).toBe('billed o-1');
  }, 120_000);
});
