import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkAndRun, typescriptBlocks } from '../../../../test-support/readme-example';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('README example', () => {
  it('type-checks and prints "o-1 completed, o-2 compensated"', () => {
    const [example = ''] = typescriptBlocks(join(packageDir, 'README.md'));
    expect(checkAndRun(example, packageDir).trim()).toBe('o-1 completed, o-2 compensated');
  }, 120_000);
});
