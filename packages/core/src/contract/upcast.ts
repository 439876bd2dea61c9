import { UnsupportedVersionError, UpcastError, ValidationError } from '../errors/decode-errors';
import type { ErrorContext } from '../errors/edakit-error';
import type { AnyEventContract } from './event-contract';
import { toValidationIssues } from './validate';

/**
 * Brings data written at `fromVersion` up to the contract's version, one step at
 * a time. The written data is first checked against its own version's schema
 * when the contract knows it (contracts built with `evolve()`), so the first
 * upcaster gets the shape it expects.
 */
export function upcast(
  contract: AnyEventContract,
  data: unknown,
  fromVersion: number,
  context: ErrorContext,
): unknown {
  if (!Number.isSafeInteger(fromVersion) || fromVersion < 1 || fromVersion > contract.version) {
    throw new UnsupportedVersionError(fromVersion, contract.version, context);
  }
  let current = data;
  // Only the written data is untrusted; what our own upcasters produce is checked
  // once, against the latest schema, by the caller.
  const writtenSchema = contract.previousSchemas.get(fromVersion);
  if (writtenSchema) {
    const result = writtenSchema.safeParse(current);
    if (!result.success) {
      throw new ValidationError(toValidationIssues(result.error.issues), {
        ...context,
        version: fromVersion,
      });
    }
    current = result.data;
  }
  for (let version = fromVersion; version < contract.version; version++) {
    // checkUpcasters guarantees the chain is complete at definition time.
    const step = contract.upcasters.get(version) as (data: Record<string, unknown>) => unknown;
    try {
      current = step(current as Record<string, unknown>);
    } catch (error) {
      throw new UpcastError(version, context, error);
    }
  }
  return current;
}
