/**
 * prom-client and @opentelemetry/api are optional peers: only
 * `@edakit/core/prometheus`, resp. `@edakit/core/opentelemetry`, may load them.
 * Reads the built files (turbo builds before testing): the main and testing
 * entries, and every chunk they share, never name them.
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

  const entryFiles = (entry: string) =>
    ['index.cjs', 'index.d.cts', 'index.d.ts', 'index.js'].map((file) => `${entry}/${file}`);

  it.each([
    ['prom-client', 'prometheus'],
    ['@opentelemetry/api', 'opentelemetry'],
  ])('names %s only in the %s entry', (peer, entry) => {
    const code = files(dist).filter((file) => /\.(c?js|d\.c?ts)$/.test(file));
    const naming = code.filter((file) => readFileSync(join(dist, file), 'utf8').includes(peer));
    expect(naming.sort()).toEqual(entryFiles(entry));
    expect(code).toContain('index.js');
    expect(code).toContain('index.cjs');
  });

  it('loads the main entry, and answers a health check, without loading prom-client or @opentelemetry/api', () => {
    // A fresh process: which modules it loaded is all its own.
    const loads = (entry: string, peer: string) => {
      const script = [
        `const core = await import(${JSON.stringify(join(dist, entry))});`,
        "if (typeof core.healthCheck === 'function') await core.healthCheck({});",
        "const { createRequire } = await import('node:module');",
        'const cache = Object.keys(createRequire(import.meta.url).cache);',
        // Forward slashes whatever the platform writes.
        `const peer = ${JSON.stringify(`/node_modules/${peer}/`)};`,
        "console.log(cache.some((path) => path.split('\\\\').join('/').includes(peer)));",
      ].join('\n');
      const result = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      return result.stdout.trim();
    };
    expect(loads('index.js', 'prom-client')).toBe('false');
    expect(loads('index.js', '@opentelemetry/api')).toBe('false');
    // The check can see a load.
    expect(loads('prometheus/index.js', 'prom-client')).toBe('true');
    expect(loads('opentelemetry/index.js', '@opentelemetry/api')).toBe('true');
  });
});
