import type { EventEnvelope } from '../envelope/event-envelope';
import { PayloadTooLargeError, ValidationError } from '../errors/decode-errors';
import { type WireMessage, wireSize } from './wire-message';

/** `value` as UTF-8 JSON bytes; data JSON cannot hold (BigInt, cycles) is a ValidationError. */
export function jsonBody(value: unknown, envelope: EventEnvelope): Buffer {
  let json: string;
  try {
    json = JSON.stringify(value) ?? 'null';
  } catch (error) {
    // Schemas must describe JSON data (see docs/errors.md).
    throw new ValidationError(
      [
        {
          path: '',
          message: `data cannot be encoded as JSON: ${(error as Error).message}`,
          code: 'not_json',
        },
      ],
      { eventType: envelope.type, eventId: envelope.id },
    );
  }
  return Buffer.from(json, 'utf8');
}

/**
 * Throws PayloadTooLargeError when the message (body plus headers) exceeds
 * `limit`. `headerChars` counts header names and values in UTF-16 units; a unit
 * is at most 3 UTF-8 bytes, so the exact count is only needed near the limit.
 */
export function assertWithinLimit(
  message: WireMessage,
  headerChars: number,
  limit: number,
  envelope: EventEnvelope,
): void {
  if (message.body.byteLength + 3 * headerChars <= limit) return;
  const size = wireSize(message);
  if (size > limit) {
    throw new PayloadTooLargeError(size, limit, { eventType: envelope.type, eventId: envelope.id });
  }
}
