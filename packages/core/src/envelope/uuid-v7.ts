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
const hex: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

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
  const randomBytes = pool.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  if (now > lastMs) {
    lastMs = now;
    // Start the counter in the lower half so a burst has room to grow.
    counter = ((randomBytes[0] as number) << 3) | ((randomBytes[1] as number) >> 5);
  } else {
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
  }
  const ms = lastMs;
  const bytes = new Uint8Array(16);
  // 48-bit big-endian timestamp; split because bit operators are 32-bit.
  const high = Math.floor(ms / 0x1_0000_0000);
  const low = ms >>> 0;
  bytes[0] = (high >>> 8) & 0xff;
  bytes[1] = high & 0xff;
  bytes[2] = (low >>> 24) & 0xff;
  bytes[3] = (low >>> 16) & 0xff;
  bytes[4] = (low >>> 8) & 0xff;
  bytes[5] = low & 0xff;
  bytes[6] = 0x70 | (counter >>> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | ((randomBytes[2] as number) & 0x3f);
  for (let i = 9; i < 16; i++) bytes[i] = randomBytes[i - 6] as number;
  let out = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += '-';
    out += hex[bytes[i] as number];
  }
  return out;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isUuidV7(value: string): boolean {
  return UUID_V7.test(value);
}
