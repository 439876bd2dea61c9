import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { rebaseRefs, resolveRef, toJsonSchema } from './json-schema';
import { dataType, type FieldRow, schemaFields } from './schema-fields';

function fields(schema: z.ZodType): Record<string, Omit<FieldRow, 'name'>> {
  return Object.fromEntries(
    schemaFields(toJsonSchema(schema)).map(({ name, ...rest }) => [name, rest]),
  );
}

describe('schemaFields', () => {
  it('points a recursive field at where its shape is described', () => {
    const Category: z.ZodType<{ name: string; children?: unknown[] }> = z.object({
      name: z.string(),
      get children() {
        return z.array(Category).optional();
      },
    });
    const rows = fields(z.object({ category: Category }));
    expect(rows['category.children']?.type).toBe('object[]');
    expect(rows['category.children[]']?.constraints).toEqual(['same shape as `category`']);

    const Node = z.object({
      id: z.string(),
      get next() {
        return Node.optional();
      },
    });
    expect(fields(Node).next).toMatchObject({
      type: 'object',
      required: false,
      constraints: ['same shape as the event data'],
    });
  });

  it('describes records, tuples, plain unions and values JSON Schema cannot express', () => {
    const rows = fields(
      z.object({
        stock: z.record(z.string(), z.int()),
        byWarehouse: z.record(z.string(), z.object({ count: z.int().nonnegative() })),
        point: z.tuple([z.number(), z.number()]),
        reference: z.union([z.string(), z.number()]),
        mixed: z.array(z.union([z.string(), z.boolean()])),
        placedAt: z.date(),
      }),
    );
    expect(rows.stock?.type).toBe('record<string, integer>');
    expect(rows['byWarehouse.*.count']).toMatchObject({ type: 'integer', constraints: ['min 0'] });
    expect(rows.point).toMatchObject({ type: '[number, number]', constraints: [] });
    expect(rows.reference?.type).toBe('string | number');
    expect(rows.mixed?.type).toBe('(string | boolean)[]');
    // A Date does not survive JSON: documented as "any" rather than failing the docs.
    expect(rows.placedAt?.type).toBe('any');
  });

  it('words numeric and string validations', () => {
    const rows = fields(
      z.object({
        price: z.number().multipleOf(0.01).lt(1000).gt(5),
        debt: z.number().negative(),
        count: z.number().int().lte(10).gte(2),
        code: z.string().regex(/^[A-Z]+$/),
        priority: z.union([z.literal(1), z.literal(2)]),
        kind: z.literal('fixed'),
        flags: z.array(z.string()).length(2),
        step: z.number().multipleOf(1),
      }),
    );
    expect(rows.price?.constraints).toEqual(['> 5', '< 1000', 'multiple of 0.01']);
    expect(rows.debt?.constraints).toEqual(['negative']);
    expect(rows.count?.constraints).toEqual(['min 2', 'max 10']);
    expect(rows.code?.constraints).toEqual(['pattern: `^[A-Z]+$`']);
    expect(rows.kind).toMatchObject({ type: 'string', constraints: ['always `fixed`'] });
    expect(rows.flags?.constraints).toEqual(['at least 2 items', 'at most 2 items']);
    expect(rows.step?.constraints).toEqual(['whole number']);
    expect(rows.priority?.type).toBe('number');
  });

  it('reads JSON Schema keywords zod may not write, and survives a broken $ref', () => {
    const rows = schemaFields({
      type: 'object',
      properties: {
        tags: { type: 'array', items: { type: 'string' }, uniqueItems: true, maxItems: 1 },
        legacy: { type: 'string', deprecated: true, pattern: 'a`b' },
        colour: { enum: ['red', 3] },
        wrapped: { allOf: [{ $ref: '#/definitions/Money' }], description: 'Price paid' },
        missing: { $ref: '#/definitions/Nothing' },
        remote: { $ref: 'https://example.com/schema.json' },
        fixed: { const: 7 },
        shape: { properties: { x: { type: 'number' } } },
      },
      definitions: { Money: { type: 'object', properties: { amount: { type: 'number' } } } },
    });
    const byName = Object.fromEntries(rows.map(({ name, ...rest }) => [name, rest]));
    expect(byName.tags?.constraints).toEqual(['at most 1 item', 'unique items']);
    expect(byName.legacy?.constraints).toEqual(['pattern: `` a`b ``', 'deprecated']);
    expect(byName.colour).toMatchObject({ type: 'any', constraints: ['one of: `red`, `3`'] });
    expect(byName.wrapped).toMatchObject({ type: 'object (Money)', description: 'Price paid' });
    expect(byName['wrapped.amount']?.required).toBe(false);
    expect(byName.missing?.type).toBe('any');
    expect(byName.remote?.type).toBe('any');
    expect(byName.fixed).toMatchObject({ type: 'number', constraints: ['always `7`'] });
    expect(byName.shape?.type).toBe('object');
  });

  it('names the type of data that is not an object', () => {
    expect(schemaFields(toJsonSchema(z.string()))).toEqual([]);
    expect(dataType(toJsonSchema(z.array(z.string()).nullable()))).toBe('string[] | null');
    expect(dataType({ type: 'array' })).toBe('array');
  });
});

describe('JSON Schema refs', () => {
  it('rebases local refs onto where the schema is embedded, leaving others alone', () => {
    const schema = {
      items: { $ref: '#' },
      money: { $ref: '#/definitions/Money' },
      remote: { $ref: 'other.json#/x' },
      list: [{ $ref: '#' }, 1],
    };
    expect(rebaseRefs(schema, '#/components/schemas/order.placed')).toEqual({
      items: { $ref: '#/components/schemas/order.placed' },
      money: { $ref: '#/components/schemas/order.placed/definitions/Money' },
      remote: { $ref: 'other.json#/x' },
      list: [{ $ref: '#/components/schemas/order.placed' }, 1],
    });
  });

  it('resolves JSON Pointers with escaped tokens', () => {
    const root = { definitions: { 'a/b': { type: 'string' }, 'c~d': { type: 'number' } } };
    expect(resolveRef(root, '#/definitions/a~1b')).toEqual({ type: 'string' });
    expect(resolveRef(root, '#/definitions/c~0d')).toEqual({ type: 'number' });
    expect(resolveRef(root, '#')).toBe(root);
    expect(resolveRef(root, '#/nothing/here')).toBeUndefined();
  });
});
