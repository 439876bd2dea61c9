import type { AnyEventContract, EventInput } from '../contract/event-contract';
import { InvalidCatalogError } from '../errors/usage-errors';

/**
 * What a message asks of its consumers: an `event` states a fact, a `command`
 * asks one consumer to act, a `reply` answers a command. Docs show it; the bus
 * treats all three alike.
 */
export type CatalogEventKind = 'event' | 'command' | 'reply';

/** One event of a catalog: its latest contract and who sends and reads it. */
export interface CatalogEvent<C extends AnyEventContract = AnyEventContract> {
  /** The latest version: older versions are documented from its upcasters. */
  readonly contract: C;
  /** The service that publishes the event. */
  readonly producer: string;
  /** The services that handle it; empty while nobody does yet. */
  readonly consumers: readonly string[];
  /** What changed in each version, by version number: `{ 2: 'Adds currency' }`. */
  readonly changes?: Readonly<Record<number, string>>;
  /** Defaults to `event`. */
  readonly kind?: CatalogEventKind;
  /** Example data, shown on the event's page; checked against the schema. */
  readonly example?: EventInput<C>;
}

/**
 * The events of a system, for docs. `T` is inferred from the contracts, so
 * each `example` is checked against its own contract's input type.
 */
export interface CatalogOptions<T extends readonly AnyEventContract[] = AnyEventContract[]> {
  readonly title: string;
  /** The catalog's own version (AsyncAPI `info.version`), e.g. `1.4.0`. */
  readonly version: string;
  readonly description?: string;
  readonly events: { readonly [K in keyof T]: CatalogEvent<T[K]> };
}

/** A catalog entry after validation: defaults applied, example parsed. */
export interface CatalogEntry {
  readonly contract: AnyEventContract;
  readonly producer: string;
  readonly consumers: readonly string[];
  readonly changes: ReadonlyMap<number, string>;
  readonly kind: CatalogEventKind;
  /** The example as the producer would send it: parsed, defaults applied. */
  readonly example?: unknown;
}

/** A validated catalog, built by `defineCatalog`. */
export interface Catalog {
  readonly title: string;
  readonly version: string;
  readonly description?: string | undefined;
  /** In the order given. */
  readonly events: readonly CatalogEntry[];
}

// Symbol.for, like EdakitError's marker: a catalog built by one copy of the
// package is still recognised by another (the CLI's, for instance).
const marker = Symbol.for('edakit.catalog');

/** Marks a validated catalog; only defineCatalog calls it. */
export function markCatalog(catalog: Catalog): Catalog {
  Object.defineProperty(catalog, marker, { value: true });
  return Object.freeze(catalog);
}

/** True for a catalog built by `defineCatalog` (from any copy of @edakit/core). */
export function isCatalog(value: unknown): value is Catalog {
  return typeof value === 'object' && value !== null && marker in value;
}

/** Functions taking a catalog are called from plain JS and the CLI too. */
export function assertCatalog(value: unknown): asserts value is Catalog {
  if (!isCatalog(value)) {
    throw new InvalidCatalogError('Expected a catalog built with defineCatalog');
  }
}
