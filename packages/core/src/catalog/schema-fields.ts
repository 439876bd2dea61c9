import { code, constraintsOf, formatValue } from './field-constraints';
import { type JsonSchema, resolveRef } from './json-schema';

/** One row of an event page's fields table. */
export interface FieldRow {
  /** Dotted path; array items as `items[]`, union variants as `payment[kind=card]`. */
  readonly name: string;
  readonly type: string;
  /** Undefined for array items, where it means nothing. */
  readonly required: boolean | undefined;
  readonly constraints: readonly string[];
  readonly description: string | undefined;
}

interface Child {
  readonly suffix: string;
  readonly schema: unknown;
  readonly required: boolean | undefined;
}

/** A node after following `$ref` and single-entry `allOf` (zod's wrapping of a ref). */
interface Resolved {
  readonly schema: JsonSchema;
  /** The definition a `$ref` pointed at: the key for spotting recursion. */
  readonly target: JsonSchema | undefined;
  /** A named definition (`.meta({ id: 'Money' })`); zod's own `__schema0` names are noise. */
  readonly name: string | undefined;
}

/**
 * Flattens a JSON Schema (as `toJsonSchema` makes it) into table rows, walking
 * the schema rather than zod's internals, so it follows whatever zod emits.
 */
export function schemaFields(root: JsonSchema): FieldRow[] {
  const rows: FieldRow[] = [];
  const ancestors = new Map<JsonSchema, string>([[root, '']]);
  for (const child of childrenOf(root, resolve(root, root).schema)) {
    const name = child.suffix.startsWith('.') ? child.suffix.slice(1) : child.suffix;
    walk(root, child.schema, name, child.required, rows, ancestors);
  }
  return rows;
}

/** The type of the whole data, for schemas that are not objects. */
export function dataType(root: JsonSchema): string {
  return typeLabel(root, root, 0);
}

function walk(
  root: JsonSchema,
  node: unknown,
  path: string,
  required: boolean | undefined,
  rows: FieldRow[],
  ancestors: Map<JsonSchema, string>,
): void {
  const { schema, target, name } = resolve(root, node);
  const description = typeof schema.description === 'string' ? schema.description : undefined;
  const recursion = target === undefined ? undefined : ancestors.get(target);
  if (recursion !== undefined) {
    // A recursive schema: point at where its shape is described instead of looping.
    const constraints = [
      `same shape as ${recursion === '' ? 'the event data' : `\`${recursion}\``}`,
    ];
    rows.push({ name: path, type: typeLabel(root, schema, 0), required, constraints, description });
    return;
  }
  const children = childrenOf(root, schema);
  const isItem = required === undefined;
  const constraints = constraintsOf(schema);
  const union = discriminatedUnion(root, schema);
  if (union) {
    const values = union.variants.map((variant) => code(formatValue(variant.value)));
    constraints.unshift(`variants by ${code(union.key)}: ${values.join(', ')}`);
  }
  // An array's item gets a row of its own only when it says more than the array's type.
  if (!isItem || (children.length === 0 && (constraints.length > 0 || description))) {
    const type = typeLabel(root, schema, 0) + (name ? ` (${name})` : '');
    rows.push({ name: path, type, required, constraints, description });
  }
  if (target !== undefined) ancestors.set(target, path);
  for (const child of children) {
    walk(root, child.schema, path + child.suffix, child.required, rows, ancestors);
  }
  if (target !== undefined) ancestors.delete(target);
}

/** Properties, array items, record values and discriminated variants, in that order. */
function childrenOf(root: JsonSchema, schema: JsonSchema): Child[] {
  const properties = asSchema(schema.properties);
  if (properties) {
    const required = Array.isArray(schema.required) ? schema.required : [];
    return Object.entries(properties).map(([key, child]) => ({
      suffix: `.${key}`,
      schema: child,
      required: required.includes(key),
    }));
  }
  const items = asSchema(schema.items);
  if (items) return [{ suffix: '[]', schema: items, required: undefined }];
  const values = asSchema(schema.additionalProperties);
  if (values && asSchema(resolve(root, values).schema.properties)) {
    return [{ suffix: '.*', schema: values, required: undefined }];
  }
  return variantChildren(root, schema);
}

/**
 * A union of objects that share a constant field (`kind: 'card' | 'bank'`) is
 * listed per variant: `payment[kind=card].last4`. Other unions stay one row.
 */
function variantChildren(root: JsonSchema, schema: JsonSchema): Child[] {
  const variants = variantsOf(root, schema);
  if (variants.length === 1) {
    // `X | null`: describe X's fields under the same name.
    return childrenOf(root, variants[0] as JsonSchema);
  }
  const union = discriminatedUnion(root, schema);
  if (union === undefined) return [];
  return union.variants.flatMap(({ schema: variant, value }) => {
    const prefix = `[${union.key}=${formatValue(value)}]`;
    return childrenOf(root, variant)
      .filter((child) => child.suffix !== `.${union.key}`)
      .map((child) => ({ ...child, suffix: prefix + child.suffix }));
  });
}

interface DiscriminatedUnion {
  readonly key: string;
  readonly variants: readonly { readonly schema: JsonSchema; readonly value: unknown }[];
}

/** The field every variant of a union fixes to its own constant, if there is one. */
function discriminatedUnion(root: JsonSchema, schema: JsonSchema): DiscriminatedUnion | undefined {
  const variants = variantsOf(root, schema);
  if (variants.length < 2) return undefined;
  const fixedValue = (variant: JsonSchema, key: string) =>
    constOf(asSchema(variant.properties)?.[key]);
  const key = Object.keys(asSchema(variants[0]?.properties) ?? {}).find((candidate) =>
    variants.every((variant) => fixedValue(variant, candidate) !== undefined),
  );
  if (key === undefined) return undefined;
  return {
    key,
    variants: variants.map((variant) => ({ schema: variant, value: fixedValue(variant, key) })),
  };
}

/** The non-null variants of an `anyOf`/`oneOf`, resolved. */
function variantsOf(root: JsonSchema, schema: JsonSchema): JsonSchema[] {
  const options = Array.isArray(schema.anyOf) ? schema.anyOf : schema.oneOf;
  if (!Array.isArray(options)) return [];
  return options
    .map((option) => resolve(root, option).schema)
    .filter((option) => option.type !== 'null');
}

function resolve(root: JsonSchema, node: unknown): Resolved {
  let schema = asSchema(node) ?? {};
  let target: JsonSchema | undefined;
  let name: string | undefined;
  // Bounded: a chain of refs to refs is short; a loop of them is not a schema.
  for (let step = 0; step < 16; step++) {
    const { $ref, allOf, ...rest } = schema;
    if (typeof $ref === 'string') {
      const found = resolveRef(root, $ref);
      if (!found) return { schema: rest, target, name };
      target = found;
      const defined = /^#\/(?:definitions|\$defs)\/([^/]+)$/.exec($ref)?.[1];
      name = defined === undefined || defined.startsWith('__') ? name : defined;
      // Siblings of the ref (description, default) describe this use of it.
      schema = { ...found, ...rest };
    } else if (Array.isArray(allOf) && allOf.length === 1) {
      schema = { ...asSchema(allOf[0]), ...rest };
    } else {
      break;
    }
  }
  return { schema, target, name };
}

function typeLabel(root: JsonSchema, node: unknown, depth: number): string {
  const schema = resolve(root, node).schema;
  if (depth > 4) return 'any';
  const options = Array.isArray(schema.anyOf) ? schema.anyOf : schema.oneOf;
  if (Array.isArray(options)) {
    return unique(options.map((option) => typeLabel(root, option, depth + 1))).join(' | ');
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.map((type) => singleTypeLabel(root, schema, type, depth)).join(' | ');
}

function singleTypeLabel(root: JsonSchema, schema: JsonSchema, type: unknown, depth: number) {
  if (type === 'array') {
    if (Array.isArray(schema.items)) {
      return `[${schema.items.map((item) => typeLabel(root, item, depth + 1)).join(', ')}]`;
    }
    if (schema.items === undefined) return 'array';
    const item = typeLabel(root, schema.items, depth + 1);
    return item.includes(' | ') ? `(${item})[]` : `${item}[]`;
  }
  const values = asSchema(schema.additionalProperties);
  if (type === 'object' && schema.properties === undefined && values) {
    return `record<string, ${typeLabel(root, values, depth + 1)}>`;
  }
  if (typeof type === 'string') return type;
  if (schema.const !== undefined) return typeof schema.const;
  if (schema.properties !== undefined) return 'object';
  return 'any';
}

function constOf(node: unknown): unknown {
  const schema = asSchema(node);
  if (schema?.const !== undefined) return schema.const;
  return Array.isArray(schema?.enum) && schema.enum.length === 1 ? schema.enum[0] : undefined;
}

function asSchema(value: unknown): JsonSchema | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as JsonSchema)
    : undefined;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
