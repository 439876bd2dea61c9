import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkAndRun, typescriptBlocks } from '../../../../test-support/readme-example';
import { DATABASE_URL, uniqueTable } from '../support/postgres';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const [outboxExample = '', inboxExample = '', redisExample = ''] = typescriptBlocks(
  join(packageDir, 'README.md'),
);

describe('README examples', () => {
  it('the outbox example type-checks and prints "shipping o-1" and empty stats against real PostgreSQL', () => {
    const output = checkAndRun(outboxExample, packageDir, {
      DATABASE_URL,
      OUTBOX_TABLE: uniqueTable('readme'),
    });
    expect(output.trim().split('\n')).toEqual([
      'shipping o-1',
      '{ pending: 0, dead: 0, oldestPendingAgeMs: 0 }',
    ]);
  }, 120_000);

  it('the inbox example runs the handler once for a duplicate and queues one invoice', () => {
    const output = checkAndRun(inboxExample, packageDir, {
      DATABASE_URL,
      OUTBOX_TABLE: uniqueTable('readme'),
      INBOX_TABLE: uniqueTable('readme_inbox'),
    });
    expect(output.trim()).toBe('handler runs: 1, invoices waiting in the outbox: 1');
  }, 120_000);

  it('the Redis example writes state and event in one MULTI and mails once, against real Redis', () => {
    const output = checkAndRun(redisExample, packageDir, {
      REDIS_URL: 'redis://127.0.0.1:6379',
      OUTBOX_PREFIX: `edakit:readme:${uniqueTable('r')}:`,
    });
    expect(output.trim()).toBe('mailed c-1; status checked-out');
  }, 120_000);
});
