import { InvalidStateError } from '@edakit/core';
import type { OutboxRecord } from '../outbox-record';

/** Milliseconds of a stream id ("<ms>-<n>"): the server time the entry was written. */
export function streamIdTime(streamId: string): number {
  return Number(streamId.slice(0, streamId.indexOf('-')));
}

/**
 * Reads an entry written by the append script (fields i, k, s, c, t, h, b,
 * see outbox-write-script.ts) from a Buffer reply; the body stays bytes.
 */
export function toRecord(
  streamId: string,
  fields: readonly Buffer[],
  attempts: number,
): OutboxRecord {
  const values = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    values.set(String(fields[i]), fields[i + 1] as Buffer);
  }
  const text = (name: string): string => {
    const value = values.get(name);
    if (value === undefined) {
      throw new InvalidStateError(`Outbox stream entry ${streamId} has no "${name}" field`, {
        streamId,
      });
    }
    return value.toString('utf8');
  };
  const body = values.get('b');
  return {
    id: text('i'),
    key: text('k'),
    sequence: Number(text('s')),
    channel: text('c'),
    type: text('t'),
    headers: parseHeaders(text('h'), streamId),
    body: body ?? new Uint8Array(0),
    attempts,
    createdAt: new Date(streamIdTime(streamId)),
  };
}

function parseHeaders(json: string, streamId: string): Record<string, string> {
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidStateError(`Outbox stream entry ${streamId} has malformed headers`, {
      streamId,
    });
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) headers[name] = String(value);
  return headers;
}
