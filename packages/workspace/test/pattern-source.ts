import type { PutSource } from "@ws/core";

/**
 * A `PutSource` for providers' stream tests: `size` bytes of a pattern, data only in `extents` (all
 * of it when absent, zeros between), failing once a read reaches `failAt`; counts the bytes read.
 */
export function patternSource(
  size: number,
  extents?: Array<[number, number]>,
  failAt?: number,
): PutSource & { bytesRead: number; whole(): Uint8Array } {
  const byteAt = (i: number): number => (i * 31 + (i >>> 13)) & 0xff;
  const data = extents ?? [[0, size]];
  const source = {
    size,
    ...(extents ? { extents } : {}),
    bytesRead: 0,
    async read(start: number, end: number): Promise<Uint8Array> {
      if (failAt !== undefined && end > failAt) throw new Error(`the source failed at byte ${failAt}`);
      source.bytesRead += end - start;
      const out = new Uint8Array(end - start);
      for (const [s, e] of data) {
        for (let i = Math.max(s, start); i < Math.min(e, end); i++) out[i - start] = byteAt(i);
      }
      return out;
    },
    whole(): Uint8Array {
      const out = new Uint8Array(size);
      for (const [s, e] of data) for (let i = s; i < e; i++) out[i] = byteAt(i);
      return out;
    },
  };
  return source;
}
