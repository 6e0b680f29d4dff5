import { randomFillSync } from 'node:crypto';

/**
 * Unguessable hex names (the nonce, result files), from a pool of random bytes refilled 4 kB
 * at a time: each randomBytes() call costs the event loop ~20 us here, and every Python
 * execution needs two. A pool's bytes are handed out once, never twice.
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

export function randomHex(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes <= 0 || bytes > POOL_BYTES) {
    throw new RangeError(`1 to ${POOL_BYTES} random bytes at once, not ${bytes}`);
  }
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}
