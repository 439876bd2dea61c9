/** A packed field: text (written as UTF-8) or bytes (as they are). */
export type PackedField = string | Uint8Array;

/**
 * Fields packed into one script argument: per field a 4-byte big-endian
 * byte length, then its bytes; Lua reads them back with
 * `struct.unpack('>I4c0...', packed, position)`. One argument instead of a
 * dozen per operation: the client fills one buffer instead of building a
 * string per argument, and Redis hands the script one string instead of a
 * table entry per argument.
 */
export function packFields(fields: readonly PackedField[]): Buffer {
  // At most 3 bytes of UTF-8 per UTF-16 unit (a surrogate pair, 2 units, is 4 bytes).
  let bound = 0;
  for (const field of fields) {
    bound += 4 + (typeof field === 'string' ? field.length * 3 : field.byteLength);
  }
  const packed = Buffer.allocUnsafe(bound);
  let at = 0;
  for (const field of fields) {
    let length: number;
    if (typeof field === 'string') {
      length = packed.write(field, at + 4, 'utf8');
    } else {
      packed.set(field, at + 4);
      length = field.byteLength;
    }
    packed.writeUInt32BE(length, at);
    at += 4 + length;
  }
  return packed.subarray(0, at);
}
