import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DecodeError, ValidationError } from './decode-errors';
import { EdakitError } from './edakit-error';
import { ErrorCodes } from './error-codes';

const docs = readFileSync(
  fileURLToPath(new URL('../../../../docs/errors.md', import.meta.url)),
  'utf8',
);

describe('error codes', () => {
  it.each(Object.values(ErrorCodes))('%s is documented in docs/errors.md', (code) => {
    expect(docs).toContain(`## ${code}`);
  });

  it('are unique and prefixed', () => {
    const codes = Object.values(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^EDAKIT_[A-Z_]+$/);
  });

  it('are recognised across package copies by isInstance, not only instanceof', () => {
    const error = new ValidationError([{ path: 'a', message: 'bad', code: 'invalid_type' }], {
      eventType: 't',
    });
    expect(EdakitError.isInstance(error)).toBe(true);
    expect(EdakitError.isInstance(new Error('x'))).toBe(false);
    expect(EdakitError.isInstance(null)).toBe(false);
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe('Event "t" failed validation at "a": bad');
    const cause = new Error('root');
    expect(new DecodeError('d', {}, cause).cause).toBe(cause);
  });
});
