import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkAndRun, typescriptBlocks } from '../../../../test-support/readme-example';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('README example', () => {
  it('type-checks and prints "billed o-1" against the real broker', () => {
    const [example = ''] = typescriptBlocks(join(packageDir, 'README.md'));
    expect(checkAndRun(example, packageDir).trim()).toBe('billed o-1');
  }, 120_000);
});
