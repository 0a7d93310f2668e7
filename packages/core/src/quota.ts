import { MountError } from "./errors.js";

export interface QuotaLimits {
  readonly maxBytes?: number | undefined;
  readonly maxEntries?: number | undefined;
}

export interface QuotaUsage {
  readonly bytes: number;
  readonly entries: number;
}

function format(n: number): string {
  return n.toLocaleString("en-US");
}

/** The `EDQUOT` error for one exceeded limit, naming the limit, the observed value and the root. */
export function quotaExceeded(
  limit: "maxBytes" | "maxEntries",
  max: number,
  observed: number,
  root: string | undefined,
  path?: string,
): MountError {
  const unit = limit === "maxBytes" ? " bytes" : " entries";
  const where = root ? `mount ${root}` : "mount";
  const what = path ? ` (writing ${path})` : "";
  return new MountError(
    "EDQUOT",
    `${where} exceeds ${limit}: ${format(observed)}${unit} > limit ${format(max)}${unit}${what}; ` +
      `raise ${limit} or add ignore patterns for what you do not need`,
    { path: path ?? root, root, quota: { limit, max, observed } },
  );
}

/**
 * Checks a whole listing (already filtered by ignore) against the limits and returns the usage.
 * Throws `EDQUOT` for the first limit exceeded; the caller has not written anything yet.
 */
export function checkQuota(
  entries: Iterable<{ readonly size: number }>,
  limits: QuotaLimits,
  root?: string,
): QuotaUsage {
  const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
  const maxEntries = limits.maxEntries ?? Number.POSITIVE_INFINITY;
  let bytes = 0;
  let count = 0;
  for (const entry of entries) {
    bytes += entry.size;
    count += 1;
  }
  if (count > maxEntries) throw quotaExceeded("maxEntries", maxEntries, count, root);
  if (bytes > maxBytes) throw quotaExceeded("maxBytes", maxBytes, bytes, root);
  return { bytes, entries: count };
}

/**
 * Running usage for eager materialisation and for writes. Every method checks before it changes
 * anything, so a refused operation leaves the counter as it was.
 */
export class QuotaCounter {
  readonly maxBytes: number;
  readonly maxEntries: number;
  readonly root: string | undefined;
  #bytes = 0;
  #entries = 0;

  constructor(limits: QuotaLimits = {}, root?: string, initial: QuotaUsage = { bytes: 0, entries: 0 }) {
    this.maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
    this.maxEntries = limits.maxEntries ?? Number.POSITIVE_INFINITY;
    this.root = root;
    this.#bytes = initial.bytes;
    this.#entries = initial.entries;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get entries(): number {
    return this.#entries;
  }

  /** Throws `EDQUOT` if changing usage by these deltas would exceed a limit; changes nothing. */
  check(deltaBytes: number, deltaEntries: number, path?: string): void {
    const entries = this.#entries + deltaEntries;
    const bytes = this.#bytes + deltaBytes;
    if (deltaEntries > 0 && entries > this.maxEntries) {
      throw quotaExceeded("maxEntries", this.maxEntries, entries, this.root, path);
    }
    if (deltaBytes > 0 && bytes > this.maxBytes)
      throw quotaExceeded("maxBytes", this.maxBytes, bytes, this.root, path);
  }

  /** A new file of `size` bytes. */
  add(size: number, path?: string): void {
    this.check(size, 1, path);
    this.#bytes += size;
    this.#entries += 1;
  }

  /** An existing file rewritten from `oldSize` to `newSize` bytes. */
  replace(oldSize: number, newSize: number, path?: string): void {
    this.check(newSize - oldSize, 0, path);
    this.#bytes += newSize - oldSize;
  }

  /**
   * Any change at once (a rename that moves several files between mounts, say): checks the net
   * deltas, then applies them. Throws `EDQUOT` and changes nothing when a limit would be exceeded.
   */
  adjust(deltaBytes: number, deltaEntries: number, path?: string): void {
    this.check(deltaBytes, deltaEntries, path);
    this.#bytes = Math.max(0, this.#bytes + deltaBytes);
    this.#entries = Math.max(0, this.#entries + deltaEntries);
  }

  /** A file of `size` bytes removed. Never throws. */
  remove(size: number): void {
    this.#bytes = Math.max(0, this.#bytes - size);
    this.#entries = Math.max(0, this.#entries - 1);
  }
}
