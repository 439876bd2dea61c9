import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The README's quickstart is code users copy: it must compile against the built
// package and print what the README says it prints.
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const quickstart = /## Quickstart[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
// Inside the core package so '@edakit/core' and 'zod' resolve as for a user.
const folder = mkdtempSync(join(repo, 'packages/core/test/readme/.quickstart-'));
const file = join(folder, 'quickstart.ts');

afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('README quickstart', () => {
  it('is at most 20 lines', () => {
    expect(quickstart).toContain('defineEvent');
    expect(quickstart.trim().split('\n').length).toBeLessThanOrEqual(20);
  });

  it('type-checks against the built package', () => {
    writeFileSync(file, quickstart);
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
  }, 60_000);

  it('runs and prints what the README says', () => {
    writeFileSync(file, quickstart);
    const output = execFileSync(process.execPath, ['--import', 'tsx', file], {
      cwd: repo,
      encoding: 'utf8',
    });
    expect(output.trim()).toBe('charge 42 for o-1');
  }, 60_000);
});
