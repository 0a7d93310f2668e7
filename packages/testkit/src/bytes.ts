/** Deterministic test data, so a failure reproduces byte for byte on every run. */

const encoder = new TextEncoder();

export function text(value: string): Uint8Array {
  return encoder.encode(value);
}

/** xorshift32 bytes from a seed: reproducible, and not valid UTF-8 (see `binaryBytes`). */
export function randomBytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Random bytes that start with sequences no UTF-8 decoder round-trips (a lone continuation byte,
 * an overlong `/`, 0xFE/0xFF, a truncated 4-byte sequence), so a provider that passes bytes
 * through a string anywhere is caught by the sha256 comparison.
 */
export function binaryBytes(length: number, seed?: number): Uint8Array {
  const out = randomBytes(length, seed);
  const poison = [0x80, 0xc0, 0xaf, 0xfe, 0xff, 0xf0, 0x9f, 0x98, 0x00, 0xed, 0xa0, 0x80];
  out.set(poison.slice(0, Math.min(poison.length, length)));
  return out;
}
