import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors/decode-errors';
import type { ErrorContext } from '../errors/edakit-error';
import type { AnyEventContract, EventData } from './event-contract';

/** Validates data against the contract's current schema; throws ValidationError. */
export function validate<C extends AnyEventContract>(
  contract: C,
  data: unknown,
  context: ErrorContext = {},
): EventData<C> {
  const result = contract.schema.safeParse(data);
  if (!result.success) {
    throw new ValidationError(toValidationIssues(result.error.issues), {
      eventType: contract.type,
      version: contract.version,
      ...context,
    });
  }
  return result.data as EventData<C>;
}

/** Keeps zod's issues as data: path, message and zod's own code. */
export function toValidationIssues(issues: readonly z.core.$ZodIssue[]): ValidationIssue[] {
  return issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
    code: issue.code,
  }));
}
