import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkAndRun, typescriptBlocks } from '../../../../test-support/readme-example';
import { testUrl } from '../support/integration';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('README example', () => {
  it('type-checks and prints "billed o-1" against the real broker', () => {
    const [example = ''] = typescriptBlocks(join(packageDir, 'README.md'));
    // AMQP_URL points the example at this run's vhost (deleted after the run).
    expect(checkAndRun(example, packageDir, { AMQP_URL: testUrl() }).trim()).toBe('billed o-1');
  }, 120_000);
});
