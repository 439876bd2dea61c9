import { isUtf8 } from 'node:buffer';
import { DecodeError } from '../errors/decode-errors';
import type { ErrorContext } from '../errors/edakit-error';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/**
 * True when the text could hide a forbidden key: it names one, or has an
 * escape (\u005f can spell one), which forces the full walk. Four substring
 * searches cost half of one regex alternation over the same text.
 */
function suspect(text: string): boolean {
  return (
    text.includes('__proto__') ||
    text.includes('constructor') ||
    text.includes('prototype') ||
    text.includes('\\u')
  );
}

/**
 * Parses untrusted JSON bytes. Invalid UTF-8, malformed JSON and any object key
 * that could reach a prototype (`__proto__`, `constructor`, `prototype`) raise
 * DecodeError: such a message is dead-lettered, never half-trusted.
 */
export function parseUntrustedJson(body: Uint8Array, context: ErrorContext): unknown {
  if (!isUtf8(body)) throw new DecodeError('Body is not valid UTF-8', context);
  // toString() without arguments is Buffer's direct UTF-8 path.
  const text = (
    Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  ).toString();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DecodeError(`Body is not valid JSON: ${(error as Error).message}`, context, error);
  }
  if (suspect(text)) {
    const path = findForbiddenKey(value, '');
    if (path !== undefined) {
      throw new DecodeError(`Body contains the forbidden key "${path}"`, { ...context, path });
    }
  }
  return value;
}

function findForbiddenKey(value: unknown, path: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findForbiddenKey(value[i], `${path}${path ? '.' : ''}${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const keyPath = `${path}${path ? '.' : ''}${key}`;
    if (FORBIDDEN_KEYS.has(key)) return keyPath;
    const found = findForbiddenKey((value as Record<string, unknown>)[key], keyPath);
    if (found !== undefined) return found;
  }
  return undefined;
}
