import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkAndRun, repoRoot, typescriptBlocks } from '../../../../test-support/readme-example';

// The root README's quickstart is code users copy: it must compile against the
// built package and print what the README says it prints.
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const [quickstart = ''] = typescriptBlocks(join(repoRoot, 'README.md'), '## Quickstart');

describe('README quickstart', () => {
  it('is at most 20 lines', () => {
    expect(quickstart).toContain('defineEvent');
    expect(quickstart.trim().split('\n').length).toBeLessThanOrEqual(20);
  });

  it('type-checks against the built package, runs, and prints what the README says', () => {
    expect(checkAndRun(quickstart, packageDir).trim()).toBe('charge 42 for o-1');
  }, 60_000);
});
