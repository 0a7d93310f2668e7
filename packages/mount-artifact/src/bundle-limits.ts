import { MountError, quotaExceeded } from "@ws/core";

/** The caps that make a hostile archive fail early instead of filling memory. */
export interface BundleLimits {
  /** Total bytes of every member's content, counted as it is inflated (before ignore). */
  readonly maxBytes: number;
  /** Members that are not directories (files, links); directories have a cap of their own of the same size. */
  readonly maxEntries: number;
  /** Inflated bytes per compressed byte, enforced once more than `expansionFloor` bytes were inflated. */
  readonly maxExpansion: number;
  /** Below this many inflated bytes the ratio is not enforced (small, very compressible bundles are fine). */
  readonly expansionFloor: number;
}

export const DEFAULT_MAX_BYTES: number = 4 * 1024 ** 3;
export const DEFAULT_MAX_ENTRIES = 200_000;
export const DEFAULT_MAX_EXPANSION = 200;
export const EXPANSION_FLOOR: number = 16 * 1024 ** 2;

/**
 * Running counters of one materialisation: every byte coming out of a decompressor and every member
 * goes through here, so a cap is enforced while inflating, not after the fact.
 */
export class InflateBudget {
  readonly limits: BundleLimits;
  readonly root: string | undefined;
  /** Content bytes of members so far. */
  bytes = 0;
  entries = 0;
  directories = 0;

  constructor(limits: BundleLimits, root: string | undefined) {
    this.limits = limits;
    this.root = root;
  }

  /** Before reading a member whose size is declared: refuse without inflating anything. */
  declare(size: number, name: string): void {
    if (this.bytes + size > this.limits.maxBytes)
      throw quotaExceeded("maxBytes", this.limits.maxBytes, this.bytes + size, this.root, name);
  }

  /** `n` more content bytes were inflated. */
  addBytes(n: number, name: string): void {
    this.bytes += n;
    if (this.bytes > this.limits.maxBytes)
      throw quotaExceeded("maxBytes", this.limits.maxBytes, this.bytes, this.root, name);
  }

  addEntry(directory: boolean, name: string): void {
    if (directory) {
      this.directories++;
      if (this.directories > this.limits.maxEntries)
        throw quotaExceeded("maxEntries", this.limits.maxEntries, this.directories, this.root, name);
      return;
    }
    this.entries++;
    if (this.entries > this.limits.maxEntries)
      throw quotaExceeded("maxEntries", this.limits.maxEntries, this.entries, this.root, name);
  }

  /** Checks the ratio of `inflated` to `compressed` bytes of one stream (a gzip member, a zip entry). */
  checkExpansion(inflated: number, compressed: number, what: string): void {
    if (inflated <= this.limits.expansionFloor) return;
    const ratio = inflated / Math.max(1, compressed);
    if (ratio > this.limits.maxExpansion) {
      throw new MountError(
        "EDQUOT",
        `${what} expands ${Math.round(ratio)}:1 after ${inflated.toLocaleString("en-US")} bytes, above maxExpansion ${this.limits.maxExpansion}:1 (a decompression bomb?); raise maxExpansion if the bundle is genuine`,
        { path: this.root, root: this.root },
      );
    }
  }
}
