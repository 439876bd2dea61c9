/**
 * prom-client is an optional peer: only `@edakit/core/prometheus` may load it.
 * Reads the built files (turbo builds before testing): the main and testing
 * entries, and every chunk they share, never name it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const dist = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../dist');

function files(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? files(join(directory, entry.name))
      : [relative(dist, join(directory, entry.name))],
  );
}

describe('built @edakit/core', () => {
  beforeAll(() => {
    if (!existsSync(join(dist, 'index.js'))) {
      throw new Error('packages/core/dist is missing: run `npm run build` first');
    }
  });

  it('names prom-client only in the prometheus entry', () => {
    const code = files(dist).filter((file) => /\.(c?js|d\.c?ts)$/.test(file));
    const naming = code.filter((file) =>
      readFileSync(join(dist, file), 'utf8').includes('prom-client'),
    );
    expect(naming.sort()).toEqual([
      'prometheus/index.cjs',
      'prometheus/index.d.cts',
      'prometheus/index.d.ts',
      'prometheus/index.js',
    ]);
    expect(code).toContain('index.js');
    expect(code).toContain('index.cjs');
  });

  it('loads the main entry, and answers a health check, without loading prom-client', () => {
    // A fresh process: which modules it loaded is all its own.
    const loads = (entry: string) => {
      const script = [
        `const core = await import(${JSON.stringify(join(dist, entry))});`,
        "if (typeof core.healthCheck === 'function') await core.healthCheck({});",
        "const { createRequire } = await import('node:module');",
        'const cache = Object.keys(createRequire(import.meta.url).cache);',
        'console.log(cache.some((path) => /[\\\\/]prom-client[\\\\/]/.test(path)));',
      ].join('\n');
      const result = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      return result.stdout.trim();
    };
    expect(loads('index.js')).toBe('false');
    expect(loads('prometheus/index.js')).toBe('true'); // the check can see a load
  });
});
