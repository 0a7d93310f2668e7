import { invalid } from "./errors.js";
import type { PutSource } from "./types.js";

/** One shared buffer of zeros: the holes of sparse files are sent from it, never read. */
let zeros = new Uint8Array(0);

function zeroView(length: number): Uint8Array {
  if (zeros.length < length) zeros = new Uint8Array(length);
  return zeros.subarray(0, length);
}

/** (ws mounts) A `PutSource` over bytes already in memory (tests, and hosts that hold the file). */
export function bytesSource(bytes: Uint8Array): PutSource {
  return {
    size: bytes.length,
    read: async (start, end) => bytes.slice(start, end),
  };
}

/**
 * (ws mounts) Checks a `PutSource` before any I/O: a safe integer size, a `read` function, and
 * extents that are sorted, non-overlapping and inside the file. Throws `EINVAL` naming the path.
 */
export function checkPutSource(source: PutSource, relPath: string): void {
  const bad = (what: string): never => {
    throw invalid(`putStream ${relPath}: ${what}`, { path: relPath, syscall: "write" });
  };
  if (typeof source !== "object" || source === null || typeof source.read !== "function") {
    bad("the source must have a read(start, end) function");
  }
  if (!Number.isSafeInteger(source.size) || source.size < 0) {
    bad(`the source size must be a non-negative integer, got ${String(source.size)}`);
  }
  let at = 0;
  for (const extent of source.extents ?? []) {
    const [start, end] = extent;
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      start < at ||
      end < start ||
      end > source.size
    ) {
      bad(`extents must be sorted, non-overlapping [start, end) ranges within ${source.size} bytes`);
    }
    at = end;
  }
}

/**
 * (ws mounts) The source's bytes in order, in chunks of at most `chunkSize`. Data is read chunk by
 * chunk; holes (outside `extents`) come from one shared buffer of zeros and are never read. A
 * chunk that holds zeros is a view of that shared buffer: consume it before asking for the next.
 */
export async function* sourceChunks(source: PutSource, chunkSize: number): AsyncGenerator<Uint8Array> {
  const step = Math.max(1, Math.floor(chunkSize));
  const extents = source.extents ?? [[0, source.size] as const];
  let at = 0;
  const hole = function* (end: number): Generator<Uint8Array> {
    while (at < end) {
      const n = Math.min(step, end - at);
      at += n;
      yield zeroView(n);
    }
  };
  for (const [start, end] of extents) {
    yield* hole(start);
    while (at < end) {
      const n = Math.min(step, end - at);
      const bytes = await source.read(at, at + n);
      if (bytes.length !== n) {
        throw invalid(
          `putStream: the source gave ${bytes.length} bytes for [${at}, ${at + n}); the file changed`,
        );
      }
      at += n;
      yield bytes;
    }
  }
  yield* hole(source.size);
}

/** (ws mounts) The whole source in one array (for providers that can only send bytes in one piece). */
export async function readSource(source: PutSource): Promise<Uint8Array> {
  const out = new Uint8Array(source.size);
  let at = 0;
  for await (const chunk of sourceChunks(source, 8 * 1024 * 1024)) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
