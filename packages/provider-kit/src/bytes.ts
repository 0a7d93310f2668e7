/**
 * The chunks of a body as one new plain `Uint8Array` of their total length (never one of the
 * chunks itself, which may be a `Buffer` whose `slice` does not copy).
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
