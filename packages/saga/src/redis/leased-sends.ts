import type { PreparedEvent } from '@edakit/core';
import type { PackedField } from './packed-fields';
import { appendArguments } from './redis-outbox-link';

/** Fields per command in a write operation: what `appendArguments` gives (see commandFields). */
export const COMMAND_FIELDS = 7;

/**
 * A transition's commands as a write operation carries them (packed, see
 * packFields): per command the arguments of the outbox's append script
 * (`appendArguments`: key, envelope id, channel, type, headers JSON, body
 * bytes, '1' when the key is a partition key). The write script keeps those
 * bytes as they are while the commands are leased; only a move to the outbox
 * reads them back, with the outbox's own append step.
 *
 * Throws InvalidOptionsError for a command without a channel (nothing is
 * written then).
 */
export function commandFields(sends: readonly PreparedEvent[]): PackedField[] {
  const fields: PackedField[] = [];
  for (const event of sends) fields.push(...appendArguments(event));
  return fields;
}
