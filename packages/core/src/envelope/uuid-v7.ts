import { getRandomValues } from 'node:crypto';

// State for monotonicity: ids made in the same millisecond (or after the clock
// stepped back) continue from the last one, so ids sort in creation order.
let lastMs = -1;
let counter = 0; // 12-bit rand_a, used as a sub-millisecond sequence
// Random bytes are drawn 256 ids at a time: one getRandomValues call per id
// dominated the cost of an id.
const POOL_IDS = 256;
const pool = new Uint8Array(10 * POOL_IDS);
let poolOffset = pool.length;

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
// The id is written as ASCII into one reused buffer (dashes in place) and read
// back as one flat string. Concatenating 20 hex pairs made a rope of ~20
// ConsStrings (~490 bytes a string instead of ~64) that every event kept alive
// while it was in flight, and that the first write to a socket had to flatten.
const text = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1');
/** Where each of the 16 bytes goes in the text: two hex digits, dashes between groups. */
const TEXT_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

function writeByte(index: number, value: number): void {
  const at = TEXT_AT[index] as number;
  text[at] = HEX_DIGITS[value >>> 4] as number;
  text[at + 1] = HEX_DIGITS[value & 0x0f] as number;
}

/**
 * A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter
 * (method 1 of section 6.2), then 62 random bits. Unique and time-ordered
 * within this process even when thousands are made in one millisecond.
 */
export function uuidv7(now: number = Date.now()): string {
  if (poolOffset >= pool.length) {
    getRandomValues(pool);
    poolOffset = 0;
  }
  const random = poolOffset;
  poolOffset += 10;
  if (now > lastMs) {
    lastMs = now;
    // Start the counter in the lower half so a burst has room to grow.
    counter = ((pool[random] as number) << 3) | ((pool[random + 1] as number) >> 5);
  } else {
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
  }
  const ms = lastMs;
  // 48-bit big-endian timestamp; split because bit operators are 32-bit.
  const high = Math.floor(ms / 0x1_0000_0000);
  const low = ms >>> 0;
  writeByte(0, (high >>> 8) & 0xff);
  writeByte(1, high & 0xff);
  writeByte(2, low >>> 24);
  writeByte(3, (low >>> 16) & 0xff);
  writeByte(4, (low >>> 8) & 0xff);
  writeByte(5, low & 0xff);
  writeByte(6, 0x70 | (counter >>> 8));
  writeByte(7, counter & 0xff);
  writeByte(8, 0x80 | ((pool[random + 2] as number) & 0x3f));
  for (let i = 9; i < 16; i++) writeByte(i, pool[random + i - 6] as number);
  return text.toString('latin1', 0, 36);
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isUuidV7(value: string): boolean {
  return UUID_V7.test(value);
}
