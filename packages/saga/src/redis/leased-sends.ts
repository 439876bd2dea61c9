import { InvalidOptionsError, type PreparedEvent } from '@edakit/core';
import type { PackedField } from './packed-fields';

/** Fields per command in a write operation (see commandFields). */
export const COMMAND_FIELDS = 7;

/**
 * A transition's commands as a write operation carries them (packed, see
 * packFields): per command the arguments of the outbox's append script: key,
 * envelope id, channel, type, headers JSON, body bytes, '1' when the key is a
 * partition key ('0': the envelope id stands in). The write script keeps
 * those bytes as they are while the commands are leased; only a move to the
 * outbox reads them back.
 *
 * Throws InvalidOptionsError for a command without a channel (nothing is
 * written then).
 */
export function commandFields(sends: readonly PreparedEvent[]): PackedField[] {
  const fields: PackedField[] = [];
  for (const { envelope, outgoing } of sends) {
    if (typeof outgoing?.channel !== 'string' || outgoing.channel === '') {
      throw new InvalidOptionsError('An outbox event needs a channel', {
        eventId: envelope?.id,
        eventType: outgoing?.type,
      });
    }
    const { key, headers, body } = outgoing.message;
    const keyed = typeof key === 'string' && key !== '';
    fields.push(
      keyed ? key : envelope.id,
      envelope.id,
      outgoing.channel,
      outgoing.type,
      JSON.stringify(headers),
      body,
      keyed ? '1' : '0',
    );
  }
  return fields;
}
