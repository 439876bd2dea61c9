import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The package README's snippets form one program; it must compile and print
// what the README says.
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const repo = resolve(packageDir, '../..');
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
const program = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]).join('\n');
const folder = mkdtempSync(join(packageDir, 'test/readme/.quickstart-'));
const file = join(folder, 'package-readme.ts');

afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('package README', () => {
  it('type-checks and prints what it says', () => {
    writeFileSync(file, program);
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
    const output = execFileSync(process.execPath, ['--import', 'tsx', file], {
      cwd: repo,
      encoding: 'utf8',
    });
    expect(output.trim().split('\n')).toEqual([
      'billing o-1: 10 USD (v1)',
      'billing o-2: 20 EUR (v2)',
      'payment requested: 5',
    ]);
  }, 60_000);
});
