/**
 * A packed field: text (written as UTF-8), bytes (as they are), or a group of
 * fields packed the same way, which reads back as one field.
 */
export type PackedField = string | Uint8Array | readonly PackedField[];

/**
 * Fields packed into one script argument: per field a 4-byte big-endian
 * byte length, then its bytes; Lua reads them back with
 * `struct.unpack('>I4c0...', packed, position)`. One argument instead of a
 * dozen per operation: the client fills one buffer instead of building a
 * string per argument, and Redis hands the script one string instead of a
 * table entry per argument.
 */
export function packFields(fields: readonly PackedField[]): Buffer {
  const packed = Buffer.allocUnsafe(bound(fields));
  return packed.subarray(0, fill(packed, 0, fields));
}

/** Bytes the fields take at most: 3 bytes of UTF-8 per UTF-16 unit (a surrogate pair, 2 units, is 4). */
function bound(fields: readonly PackedField[]): number {
  let bytes = 0;
  for (const field of fields) {
    bytes +=
      4 +
      (typeof field === 'string'
        ? field.length * 3
        : field instanceof Uint8Array
          ? field.byteLength
          : bound(field));
  }
  return bytes;
}

/** Writes the fields from `at`; returns where they end. */
function fill(packed: Buffer, at: number, fields: readonly PackedField[]): number {
  let end = at;
  for (const field of fields) {
    const start = end + 4;
    if (typeof field === 'string') {
      end = start + packed.write(field, start, 'utf8');
    } else if (field instanceof Uint8Array) {
      packed.set(field, start);
      end = start + field.byteLength;
    } else {
      end = fill(packed, start, field);
    }
    packed.writeUInt32BE(end - start, start - 4);
  }
  return end;
}
