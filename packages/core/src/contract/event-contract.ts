import type { z } from 'zod';

/** Converts data of one version into the input of the next version. */
export type Upcaster = (data: Record<string, unknown>) => unknown;

/**
 * A typed event contract: a named, versioned schema that producers publish and
 * consumers handle. Contracts are plain values: keep them in a module that every
 * service imports.
 */
export interface EventContract<
  TType extends string = string,
  TSchema extends z.ZodType = z.ZodType,
> {
  readonly type: TType;
  readonly version: number;
  readonly schema: TSchema;
  readonly description: string;
  /** Where the event travels: a Kafka topic, a RabbitMQ routing family. */
  readonly channel: string;
  /** Derives the partition key (aggregate id) from the data, for per-key order. */
  readonly partitionKey?: ((data: z.output<TSchema>) => string | undefined) | undefined;
  /** `upcasters.get(v)` converts data of version `v` into version `v + 1`. */
  readonly upcasters: ReadonlyMap<number, Upcaster>;
  /** Schemas of older versions, when known: old data is checked against them first. */
  readonly previousSchemas: ReadonlyMap<number, z.ZodType>;
  /**
   * Defines the next version of this event. The upcaster receives the previous
   * version's data, typed, and returns the new version's input.
   *
   * @example
   * const OrderCreatedV2 = OrderCreatedV1.evolve({
   *   schema: OrderCreatedV1.schema.extend({ currency: z.string() }),
   *   upcast: (v1) => ({ ...v1, currency: 'USD' }),
   * });
   */
  evolve<TNext extends z.ZodType>(next: EvolveOptions<TSchema, TNext>): EventContract<TType, TNext>;
}

export interface EvolveOptions<TPrevious extends z.ZodType, TNext extends z.ZodType> {
  readonly schema: TNext;
  readonly upcast: (previous: z.output<TPrevious>) => z.input<TNext>;
  readonly description?: string;
  readonly partitionKey?: (data: z.output<TNext>) => string | undefined;
}

/** Any contract, whatever its type and schema. */
export type AnyEventContract = EventContract<string, z.ZodType>;

/** The data a producer passes to `publish` (before schema defaults apply). */
export type EventInput<C extends AnyEventContract> = z.input<C['schema']>;

/** The data a handler receives (after validation, defaults and upcasting). */
export type EventData<C extends AnyEventContract> = z.output<C['schema']>;
