import type { JsonSchema } from './json-schema';

// z.int() states the safe-integer range: true, but noise in a table.
const SAFE_BOUND = Number.MAX_SAFE_INTEGER;

/** Validations in words, in a stable order: format, values, lengths, bounds, items, default. */
export function constraintsOf(schema: JsonSchema): string[] {
  const constraints: string[] = [];
  if (typeof schema.format === 'string') constraints.push(`format: ${schema.format}`);
  // A format's pattern (zod writes one for uuid, email...) only repeats the format.
  else if (typeof schema.pattern === 'string') constraints.push(`pattern: ${code(schema.pattern)}`);
  if (Array.isArray(schema.enum)) {
    constraints.push(`one of: ${schema.enum.map((value) => code(formatValue(value))).join(', ')}`);
  }
  if (schema.const !== undefined) constraints.push(`always ${code(formatValue(schema.const))}`);
  constraints.push(...lengthConstraints(schema), ...numberConstraints(schema));
  if (!Array.isArray(schema.items)) constraints.push(...itemConstraints(schema));
  if (schema.uniqueItems === true) constraints.push('unique items');
  if (schema.default !== undefined) {
    constraints.push(`default: ${code(JSON.stringify(schema.default) ?? 'undefined')}`);
  }
  if (schema.deprecated === true) constraints.push('deprecated');
  return constraints;
}

function lengthConstraints(schema: JsonSchema): string[] {
  const { minLength, maxLength } = schema;
  if (typeof minLength === 'number' && minLength === maxLength) return [`length ${minLength}`];
  const constraints: string[] = [];
  if (typeof minLength === 'number') constraints.push(`min length ${minLength}`);
  if (typeof maxLength === 'number') constraints.push(`max length ${maxLength}`);
  return constraints;
}

function numberConstraints(schema: JsonSchema): string[] {
  const constraints: string[] = [];
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf } = schema;
  if (exclusiveMinimum === 0) constraints.push('positive');
  else if (typeof exclusiveMinimum === 'number') constraints.push(`> ${exclusiveMinimum}`);
  if (typeof minimum === 'number' && minimum !== -SAFE_BOUND) constraints.push(`min ${minimum}`);
  if (exclusiveMaximum === 0) constraints.push('negative');
  else if (typeof exclusiveMaximum === 'number') constraints.push(`< ${exclusiveMaximum}`);
  if (typeof maximum === 'number' && maximum !== SAFE_BOUND) constraints.push(`max ${maximum}`);
  if (typeof multipleOf === 'number') {
    constraints.push(multipleOf === 1 ? 'whole number' : `multiple of ${multipleOf}`);
  }
  return constraints;
}

function itemConstraints(schema: JsonSchema): string[] {
  const constraints: string[] = [];
  const { minItems, maxItems } = schema;
  const plural = (count: number) => (count === 1 ? 'item' : 'items');
  if (typeof minItems === 'number' && minItems > 0) {
    constraints.push(`at least ${minItems} ${plural(minItems)}`);
  }
  if (typeof maxItems === 'number') constraints.push(`at most ${maxItems} ${plural(maxItems)}`);
  return constraints;
}

export function formatValue(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}

/** Inline code that survives backticks in the value. */
export function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}
