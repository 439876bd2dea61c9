import { z } from 'zod';

/** A JSON Schema (draft-07) as a plain object. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/**
 * The JSON Schema of an event's data, as both the pages and the AsyncAPI
 * document describe it. The options are chosen so that any contract converts:
 *
 * - `io: 'input'`: describe what a consumer accepts, which is what the schema
 *   parses. Fields with a default are optional (the default is shown), and
 *   objects allow unknown keys, as zod strips them instead of failing.
 * - `unrepresentable: 'any'`: a `z.bigint()` or `z.date()` becomes "any"
 *   instead of throwing; such schemas fail on the wire anyway (docs/errors.md),
 *   but their docs should still build.
 * - `target: 'draft-07'`: AsyncAPI 3.0 schemas are a superset of draft-07.
 *
 * Recursive schemas come back with `$ref`s into `definitions` or to `#`, the
 * root of this schema; callers that embed it must rebase them (`rebaseRefs`).
 */
export function toJsonSchema(schema: z.ZodType): JsonSchema {
  const json: Record<string, unknown> = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-07',
  });
  // The dialect is stated once, by whoever embeds the schema.
  delete json.$schema;
  return json;
}

/**
 * Rewrites the local `$ref`s of a schema that will live at `pointer` in a larger
 * document: `#` becomes `pointer`, `#/definitions/x` becomes `pointer/definitions/x`.
 */
export function rebaseRefs(schema: JsonSchema, pointer: string): JsonSchema {
  return rebase(schema, pointer) as JsonSchema;
}

function rebase(value: unknown, pointer: string): unknown {
  if (Array.isArray(value)) return value.map((item) => rebase(item, pointer));
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    copy[key] =
      key === '$ref' && typeof child === 'string' && child.startsWith('#')
        ? pointer + child.slice(1)
        : rebase(child, pointer);
  }
  return copy;
}

/** The schema at a local `$ref` (`#`, `#/definitions/Money`), or undefined. */
export function resolveRef(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const token of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(token).replaceAll('~1', '/').replaceAll('~0', '~');
    node = typeof node === 'object' && node !== null ? (node as JsonSchema)[key] : undefined;
  }
  return typeof node === 'object' && node !== null ? (node as JsonSchema) : undefined;
}
