import type { AnyEventContract } from '../contract/event-contract';
import { toValidationIssues } from '../contract/validate';
import type { ErrorContext } from '../errors/edakit-error';
import { InvalidCatalogError } from '../errors/usage-errors';
import {
  type Catalog,
  type CatalogEntry,
  type CatalogEvent,
  type CatalogEventKind,
  type CatalogOptions,
  markCatalog,
} from './catalog';

const KINDS: ReadonlySet<string> = new Set<CatalogEventKind>(['event', 'command', 'reply']);

/**
 * Describes the events of a system for docs: who produces and consumes each,
 * and what changed in each version. Everything is checked here, so pages and
 * the AsyncAPI document never disagree with the contracts.
 *
 * @example
 * export default defineCatalog({
 *   title: 'Shop events',
 *   version: '1.0.0',
 *   events: [
 *     { contract: OrderPlaced, producer: 'checkout', consumers: ['billing'],
 *       changes: { 2: 'Adds currency; v1 orders were in USD' } },
 *   ],
 * });
 */
export function defineCatalog<const T extends readonly AnyEventContract[]>(
  options: CatalogOptions<T>,
): Catalog {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidCatalogError('defineCatalog needs an options object');
  }
  const title = requireText(options.title, 'The catalog needs a title', {});
  const version = requireText(options.version, `Catalog "${title}" needs a version`, {});
  if (options.description !== undefined && typeof options.description !== 'string') {
    throw new InvalidCatalogError(`The description of catalog "${title}" must be a string`);
  }
  const events: readonly CatalogEvent[] = options.events;
  if (!Array.isArray(events) || events.length === 0) {
    throw new InvalidCatalogError(`Catalog "${title}" needs at least one event`);
  }
  const seen = new Set<string>();
  const entries = events.map((event, index) => {
    const entry = checkEvent(event, index);
    if (seen.has(entry.contract.type)) {
      throw new InvalidCatalogError(
        `Catalog "${title}" lists "${entry.contract.type}" twice: give each event type one entry, with its latest contract`,
        { eventType: entry.contract.type, index },
      );
    }
    seen.add(entry.contract.type);
    return entry;
  });
  return markCatalog({ title, version, description: options.description, events: entries });
}

function checkEvent(event: CatalogEvent, index: number): CatalogEntry {
  if (typeof event !== 'object' || event === null || !isContract(event.contract)) {
    throw new InvalidCatalogError(
      `Catalog event #${index} needs a contract built with defineEvent`,
      { index },
    );
  }
  const contract = event.contract;
  const context = { eventType: contract.type, index };
  if (contract.type === 'index') {
    // Its page would overwrite the catalog's index.md.
    throw new InvalidCatalogError('An event type "index" cannot be catalogued: rename it', context);
  }
  const producer = requireText(event.producer, `"${contract.type}" needs a producer`, context);
  const consumers = checkConsumers(event.consumers, context);
  const kind = event.kind ?? 'event';
  if (!KINDS.has(kind)) {
    throw new InvalidCatalogError(
      `The kind of "${contract.type}" must be "event", "command" or "reply", got ${JSON.stringify(kind)}`,
      context,
    );
  }
  const entry: CatalogEntry = {
    contract,
    producer,
    consumers,
    changes: checkChanges(contract, event.changes ?? {}, context),
    kind,
  };
  if (event.example === undefined) return Object.freeze(entry);
  return Object.freeze({ ...entry, example: checkExample(contract, event.example, context) });
}

function checkConsumers(consumers: readonly string[], context: ErrorContext): readonly string[] {
  if (!Array.isArray(consumers)) {
    throw new InvalidCatalogError(
      `The consumers of "${context.eventType}" must be an array of service names (empty if none)`,
      context,
    );
  }
  const names = consumers.map((name) =>
    requireText(name, `"${context.eventType}" has an empty consumer name`, context),
  );
  const duplicate = names.find((name, position) => names.indexOf(name) !== position);
  if (duplicate !== undefined) {
    throw new InvalidCatalogError(
      `"${context.eventType}" lists the consumer "${duplicate}" twice`,
      context,
    );
  }
  return Object.freeze(names);
}

/** A change note for a version the contract never had is a typo, or a stale contract. */
function checkChanges(
  contract: AnyEventContract,
  changes: Readonly<Record<number, string>>,
  context: ErrorContext,
): ReadonlyMap<number, string> {
  if (typeof changes !== 'object' || changes === null) {
    throw new InvalidCatalogError(
      `The changes of "${contract.type}" must map version numbers to text`,
      context,
    );
  }
  const byVersion = new Map<number, string>();
  for (const [key, text] of Object.entries(changes)) {
    const version = Number(key);
    if (!Number.isSafeInteger(version) || version < 1 || version > contract.version) {
      throw new InvalidCatalogError(
        `"${contract.type}" describes changes of version ${key}, but its contract has versions 1 to ${contract.version}`,
        { ...context, version: key },
      );
    }
    byVersion.set(
      version,
      requireText(text, `The change note of "${contract.type}" v${version} is empty`, context),
    );
  }
  return byVersion;
}

/** Shows the example as it travels: parsed, with the schema's defaults. */
function checkExample(contract: AnyEventContract, example: unknown, context: ErrorContext) {
  const result = contract.schema.safeParse(example);
  if (!result.success) {
    const issues = toValidationIssues(result.error.issues);
    const first = issues[0];
    throw new InvalidCatalogError(
      `The example of "${contract.type}" does not match its v${contract.version} schema${first ? ` at "${first.path}": ${first.message}` : ''}`,
      { ...context, issues },
    );
  }
  return result.data;
}

function requireText(value: unknown, message: string, context: ErrorContext): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidCatalogError(message, context);
  }
  return value;
}

function isContract(value: unknown): value is AnyEventContract {
  const contract = value as Partial<AnyEventContract> | null | undefined;
  return (
    typeof contract?.type === 'string' &&
    typeof contract.version === 'number' &&
    typeof contract.schema?.safeParse === 'function' &&
    contract.upcasters instanceof Map
  );
}
