import { readFileSync } from 'node:fs';
import path from 'node:path';
import { toMermaid } from '@edakit/saga';
import { describe, expect, it } from 'vitest';
import { OrderSaga } from '../../src/services/orders/order-saga';

const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');

describe('the README', () => {
  it('draws the order saga exactly as toMermaid(OrderSaga) does', () => {
    const drawn = /```mermaid\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(drawn?.trimEnd()).toBe(toMermaid(OrderSaga).trimEnd());
  });
});
