import type { z } from 'zod';
import { InvalidContractError } from '../errors/usage-errors';
import type { EventContract, EvolveOptions, Upcaster } from './event-contract';

const EVENT_TYPE = /^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*(?:\.[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*)*$/;
const CHANNEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export interface DefineEventOptions<TType extends string, TSchema extends z.ZodType> {
  /** Dotted lower-case name, aggregate first: `order.created`. */
  readonly type: TType;
  /** Version of this schema: a positive integer, 1 for a new event. */
  readonly version?: number;
  readonly schema: TSchema;
  readonly description: string;
  /** Defaults to the first segment of the type: `order.created` -> `order`. */
  readonly channel?: string;
  readonly partitionKey?: (data: z.output<TSchema>) => string | undefined;
  /**
   * `upcasters[v]` converts version `v` into `v + 1`; every version from 1 to
   * `version - 1` needs one. Prefer `evolve()`, which types each step.
   */
  readonly upcasters?: Readonly<Record<number, Upcaster>>;
}

/**
 * Defines an event contract. The data type is inferred from the zod schema.
 *
 * @example
 * const OrderCreated = defineEvent({
 *   type: 'order.created',
 *   schema: z.object({ orderId: z.string(), total: z.number() }),
 *   description: 'A customer placed an order',
 *   partitionKey: (order) => order.orderId,
 * });
 */
export function defineEvent<const TType extends string, TSchema extends z.ZodType>(
  options: DefineEventOptions<TType, TSchema>,
): EventContract<TType, TSchema> {
  const version = options.version ?? 1;
  const context = { eventType: options.type, version };
  if (typeof options.type !== 'string' || !EVENT_TYPE.test(options.type)) {
    throw new InvalidContractError(
      `Event type "${String(options.type)}" is invalid: use dotted lower-case names like "order.created"`,
      context,
    );
  }
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new InvalidContractError(
      `Version of "${options.type}" must be a positive integer, got ${String(version)}`,
      context,
    );
  }
  if (!isZodSchema(options.schema)) {
    throw new InvalidContractError(`"${options.type}" needs a zod schema`, context);
  }
  if (typeof options.description !== 'string' || options.description.trim() === '') {
    throw new InvalidContractError(`"${options.type}" needs a description`, context);
  }
  const channel = options.channel ?? options.type.split('.')[0] ?? options.type;
  if (!CHANNEL.test(channel)) {
    throw new InvalidContractError(
      `Channel "${channel}" of "${options.type}" is invalid: letters, digits, ".", "_", "-" only, at most 200`,
      context,
    );
  }
  const upcasters = checkUpcasters(options.type, version, options.upcasters ?? {});
  return buildContract({
    type: options.type,
    version,
    schema: options.schema,
    description: options.description,
    channel,
    partitionKey: options.partitionKey,
    upcasters,
    previousSchemas: new Map(),
  });
}

interface ContractParts<TType extends string, TSchema extends z.ZodType> {
  type: TType;
  version: number;
  schema: TSchema;
  description: string;
  channel: string;
  partitionKey: ((data: z.output<TSchema>) => string | undefined) | undefined;
  upcasters: ReadonlyMap<number, Upcaster>;
  previousSchemas: ReadonlyMap<number, z.ZodType>;
}

function buildContract<TType extends string, TSchema extends z.ZodType>(
  parts: ContractParts<TType, TSchema>,
): EventContract<TType, TSchema> {
  const contract: EventContract<TType, TSchema> = {
    ...parts,
    evolve<TNext extends z.ZodType>(next: EvolveOptions<TSchema, TNext>) {
      if (!isZodSchema(next.schema)) {
        throw new InvalidContractError(`evolve() of "${parts.type}" needs a zod schema`, {
          eventType: parts.type,
        });
      }
      if (typeof next.upcast !== 'function') {
        throw new InvalidContractError(
          `evolve() of "${parts.type}" v${parts.version} needs an upcast function`,
          { eventType: parts.type },
        );
      }
      if (parts.partitionKey !== undefined && next.partitionKey === undefined) {
        // Silently losing the key would silently lose per-aggregate order.
        throw new InvalidContractError(
          `evolve() of "${parts.type}" to v${parts.version + 1} needs a partitionKey: v${parts.version} has one, and the data shape may have changed`,
          { eventType: parts.type, version: parts.version + 1 },
        );
      }
      const upcasters = new Map(parts.upcasters);
      upcasters.set(parts.version, next.upcast as Upcaster);
      const previousSchemas = new Map(parts.previousSchemas);
      previousSchemas.set(parts.version, parts.schema);
      return buildContract<TType, TNext>({
        type: parts.type,
        version: parts.version + 1,
        schema: next.schema,
        description: next.description ?? parts.description,
        channel: parts.channel,
        partitionKey: next.partitionKey,
        upcasters,
        previousSchemas,
      });
    },
  };
  return Object.freeze(contract);
}

/** A gap in the chain is a definition error, never a surprise at run time. */
function checkUpcasters(
  type: string,
  version: number,
  given: Readonly<Record<number, Upcaster>>,
): Map<number, Upcaster> {
  const upcasters = new Map<number, Upcaster>();
  for (const [key, upcaster] of Object.entries(given)) {
    const from = Number(key);
    if (!Number.isSafeInteger(from) || from < 1 || from >= version) {
      throw new InvalidContractError(
        `"${type}" v${version} has an upcaster from v${key}: only versions 1 to ${version - 1} can be upcast`,
        { eventType: type, version },
      );
    }
    if (typeof upcaster !== 'function') {
      throw new InvalidContractError(`Upcaster from v${from} of "${type}" is not a function`, {
        eventType: type,
        version,
      });
    }
    upcasters.set(from, upcaster);
  }
  for (let from = 1; from < version; from++) {
    if (!upcasters.has(from)) {
      throw new InvalidContractError(
        `"${type}" v${version} has no upcaster from v${from} to v${from + 1}: the chain from v1 must be complete`,
        { eventType: type, version },
      );
    }
  }
  return upcasters;
}

function isZodSchema(value: unknown): value is z.ZodType {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { safeParse?: unknown }).safeParse === 'function'
  );
}
