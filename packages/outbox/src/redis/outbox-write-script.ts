import { InvalidOptionsError, type PreparedEvent } from '@edakit/core';

/**
 * Appends one event: next sequence of its key, then the stream entry. Runs
 * inside the caller's MULTI as EVAL with the full text, never EVALSHA: a
 * NOSCRIPT inside EXEC would fail only this command and commit the caller's
 * state change without its event.
 *
 * KEYS[1] log stream, KEYS[2] sequences hash.
 * ARGV: 1 ordering key, 2 envelope id, 3 channel, 4 type, 5 headers (JSON),
 * 6 body, 7 '1' when the key is a partition key ('0': the envelope id stands in
 * and needs no counter). Replies the sequence.
 */
export const APPEND_LUA = `
local seq = 1
if ARGV[7] == '1' then seq = redis.call('HINCRBY', KEYS[2], ARGV[1], 1) end
redis.call('XADD', KEYS[1], '*', 'i', ARGV[2], 'k', ARGV[1], 's', seq, 'c', ARGV[3], 't', ARGV[4], 'h', ARGV[5], 'b', ARGV[6])
return seq
`;

/**
 * ARGV of APPEND_LUA for one prepared event. Throws InvalidOptionsError for
 * an event without a channel (nothing is queued then).
 */
export function appendArguments({ envelope, outgoing }: PreparedEvent): (string | Buffer)[] {
  if (typeof outgoing?.channel !== 'string' || outgoing.channel === '') {
    throw new InvalidOptionsError('An outbox event needs a channel', {
      eventId: envelope?.id,
      eventType: outgoing?.type,
    });
  }
  const { key, headers, body } = outgoing.message;
  const keyed = typeof key === 'string' && key !== '';
  return [
    keyed ? key : envelope.id,
    envelope.id,
    outgoing.channel,
    outgoing.type,
    JSON.stringify(headers),
    Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    keyed ? '1' : '0',
  ];
}
