import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EdakitError } from '../errors/edakit-error';
import { ErrorCodes } from '../errors/error-codes';
import { defineEvent } from './define-event';
import { ContractRegistry } from './registry';

const schema = z.object({ orderId: z.string() });

describe('defineEvent', () => {
  it('defaults version to 1 and channel to the first segment of the type', () => {
    const contract = defineEvent({ type: 'order.created', schema, description: 'placed' });
    expect(contract).toMatchObject({
      type: 'order.created',
      version: 1,
      channel: 'order',
      description: 'placed',
    });
    expect(Object.isFrozen(contract)).toBe(true);
  });

  it('keeps an explicit channel and partition key', () => {
    const contract = defineEvent({
      type: 'order.created',
      schema,
      description: 'placed',
      channel: 'orders.v1',
      partitionKey: (data) => data.orderId,
    });
    expect(contract.channel).toBe('orders.v1');
    expect(contract.partitionKey?.({ orderId: 'o-9' })).toBe('o-9');
  });

  it.each([
    ['Order.Created', 'upper case'],
    ['order..created', 'empty segment'],
    ['order created', 'space'],
    ['', 'empty'],
    ['1order.created', 'leading digit'],
  ])('rejects the type %j (%s) with EDAKIT_INVALID_CONTRACT', (type) => {
    expect(() => defineEvent({ type, schema, description: 'x' })).toThrowError(
      expect.objectContaining({ code: ErrorCodes.INVALID_CONTRACT }),
    );
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects version %s', (version) => {
    expect(() => defineEvent({ type: 'a.b', version, schema, description: 'x' })).toThrowError(
      /positive integer/,
    );
  });

  it('rejects a missing schema, description or bad channel', () => {
    const noSchema = { type: 'a.b', schema: {} as z.ZodType, description: 'x' };
    expect(() => defineEvent(noSchema)).toThrowError(/zod schema/);
    expect(() => defineEvent({ type: 'a.b', schema, description: '  ' })).toThrowError(
      /description/,
    );
    expect(() =>
      defineEvent({ type: 'a.b', schema, description: 'x', channel: 'bad channel' }),
    ).toThrowError(/Channel "bad channel"/);
  });

  it('reports a gap in the upcaster chain when the contract is defined', () => {
    const define = () =>
      defineEvent({
        type: 'order.created',
        version: 3,
        schema,
        description: 'x',
        upcasters: { 1: (data) => data },
      });
    expect(define).toThrowError(/no upcaster from v2 to v3/);
    try {
      define();
    } catch (error) {
      expect(EdakitError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({
        code: ErrorCodes.INVALID_CONTRACT,
        context: { eventType: 'order.created', version: 3 },
      });
    }
  });

  it('rejects upcasters outside 1..version-1 and ones that are not functions', () => {
    expect(() =>
      defineEvent({
        type: 'a.b',
        version: 2,
        schema,
        description: 'x',
        upcasters: { 1: (d) => d, 2: (d) => d },
      }),
    ).toThrowError(/only versions 1 to 1/);
    expect(() =>
      defineEvent({
        type: 'a.b',
        version: 2,
        schema,
        description: 'x',
        upcasters: { 1: 'nope' as unknown as (d: Record<string, unknown>) => unknown },
      }),
    ).toThrowError(/not a function/);
  });

  it('evolve() adds a version with its upcaster and remembers the older schema', () => {
    const v1 = defineEvent({ type: 'order.created', schema, description: 'v1' });
    const v2 = v1.evolve({
      schema: schema.extend({ currency: z.string() }),
      upcast: (old) => ({ ...old, currency: 'USD' }),
    });
    expect(v2.version).toBe(2);
    expect(v2.description).toBe('v1');
    expect(v2.channel).toBe('order');
    expect(v2.upcasters.get(1)?.({ orderId: 'o' })).toEqual({ orderId: 'o', currency: 'USD' });
    expect(v2.previousSchemas.get(1)).toBe(schema);
    expect(v1.version).toBe(1);
  });

  it('evolve() asks for the partition key again instead of silently dropping it', () => {
    const v1 = defineEvent({
      type: 'order.created',
      schema,
      description: 'v1',
      partitionKey: (d) => d.orderId,
    });
    const next = {
      schema: z.object({ id: z.string() }),
      upcast: (old: { orderId: string }) => ({ id: old.orderId }),
    };
    expect(() => v1.evolve(next)).toThrowError(/needs a partitionKey/);
    const v2 = v1.evolve({ ...next, partitionKey: (d) => d.id });
    expect(v2.partitionKey?.({ id: 'o-1' })).toBe('o-1');
  });

  it('evolve() rejects a missing schema or upcaster', () => {
    const v1 = defineEvent({ type: 'order.created', schema, description: 'v1' });
    expect(() =>
      v1.evolve({ schema: undefined as unknown as z.ZodString, upcast: () => '' }),
    ).toThrowError(/zod schema/);
    expect(() =>
      v1.evolve({ schema: z.string(), upcast: undefined as unknown as () => string }),
    ).toThrowError(/upcast function/);
  });
});

describe('ContractRegistry', () => {
  it('returns the latest version of a type and lists contracts in order', () => {
    const v1 = defineEvent({ type: 'order.created', schema, description: 'x' });
    const v2 = v1.evolve({ schema, upcast: (d) => d });
    const other = defineEvent({ type: 'cart.added', schema, description: 'x' });
    const registry = new ContractRegistry([v2, v1, other, v1]);
    expect(registry.latest('order.created')).toBe(v2);
    expect(registry.latest('nope')).toBeUndefined();
    expect(registry.has('cart.added')).toBe(true);
    expect(registry.list().map((c) => `${c.type}@${c.version}`)).toEqual([
      'cart.added@1',
      'order.created@1',
      'order.created@2',
    ]);
  });

  it('refuses two different schemas for one type and version', () => {
    const a = defineEvent({ type: 'order.created', schema, description: 'x' });
    const b = defineEvent({
      type: 'order.created',
      schema: z.object({ id: z.number() }),
      description: 'x',
    });
    expect(() => new ContractRegistry([a, b])).toThrowError(
      expect.objectContaining({ code: ErrorCodes.DUPLICATE_CONTRACT }),
    );
  });
});
