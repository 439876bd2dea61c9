import { InvalidOptionsError } from '@edakit/core';

/** Table names of one PostgreSQL outbox; `table` may be schema-qualified. */
export interface OutboxTables {
  /** The rows: one per event. */
  readonly outbox: string;
  /** One row per key: its last sequence. Writers lock it, which orders a key's commits. */
  readonly sequences: string;
  /** One row per key a relay holds, backs off or blocks. Writers never touch it. */
  readonly leases: string;
  /** Channel of the optional LISTEN/NOTIFY wake-up. */
  readonly channel: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,50}(\.[a-z_][a-z0-9_]{0,50})?$/;

/**
 * Names derived from one base name, checked so they can be spliced into SQL:
 * identifiers cannot be bound as parameters.
 */
export function outboxTables(table = 'edakit_outbox'): OutboxTables {
  if (!IDENTIFIER.test(table)) {
    throw new InvalidOptionsError(
      `outbox table "${table}" must be a lower-case SQL identifier, optionally schema-qualified (e.g. "app.edakit_outbox")`,
      { option: 'table', value: table },
    );
  }
  return {
    outbox: table,
    sequences: `${table}_sequences`,
    leases: `${table}_leases`,
    channel: table.replace('.', '_'),
  };
}

/** Unqualified name, for index names (PostgreSQL puts an index in its table's schema). */
export const bareName = (name: string): string => name.slice(name.lastIndexOf('.') + 1);
