import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkAndRun, typescriptBlocks } from '../../../../test-support/readme-example';

// The package README's snippets form one program; it must compile and print
// what the README says.
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('package README', () => {
  it('type-checks and prints what it says', () => {
    const program = typescriptBlocks(join(packageDir, 'README.md')).join('\n');
    expect(checkAndRun(program, packageDir).trim().split('\n')).toEqual([
      'billing o-1: 10 USD (v1)',
      'billing o-2: 20 EUR (v2)',
      'payment requested: 5',
      'index.md, order.placed.md, payment.requested.md',
      'AsyncAPI 3.0.0: order.placed.send, order.placed.receive.billing, payment.requested.send, payment.requested.receive.payments',
      'health: up, ready: true, live: true',
      'edakit_events_published_total{type="order.placed",status="ok"} 1',
      '1 trace: process payment <- send payment <- process order <- send order',
    ]);
  }, 60_000);
});
