import type { MountEntry } from "@ws/core";
import { EtagColumn } from "./etag-column.js";
import { NumberColumn } from "./number-column.js";

interface DirInfo {
  /** Slots of the files directly in this directory: `[start, end)`, sorted by path. */
  readonly start: number;
  readonly end: number;
  /** Names of the directories directly below. */
  readonly subdirs: string[];
  /** Live stubs in this directory and everything below it. */
  live: number;
}

const EMPTY: readonly string[] = Object.freeze([]);

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/**
 * The stubs of one lazy mount, kept out of memfs in columns so a million of them fit in well under
 * 250 bytes each: one string per path (usually shared with the listing), typed arrays for size,
 * mtime and mode, and one directory record per directory rather than per file.
 *
 * The table is built once per listing and never grows: a stub leaves it (hydrated, overwritten,
 * deleted) by being marked dead (and an evicted clean file comes back by being marked live), which keeps its metadata as the "base" version `refreshMount`
 * compares upstream against. Files of a directory occupy one contiguous, sorted slot range, so a
 * lookup is a binary search and a directory listing is a slice.
 */
export class StubTable {
  readonly #paths: string[];
  readonly #sizes: NumberColumn;
  readonly #mtimes: NumberColumn;
  readonly #modes: Uint16Array;
  readonly #etags: EtagColumn;
  readonly #live: Uint8Array;
  readonly #dirs = new Map<string, DirInfo>();
  #liveCount: number;
  #liveBytes = 0;

  constructor(entries: readonly MountEntry[]) {
    const n = entries.length;
    // Group entry indices by directory, registering every ancestor directory on the way.
    const buckets = new Map<string, number[]>();
    const subdirs = new Map<string, string[]>([["", []]]);
    const register = (dir: string): void => {
      if (subdirs.has(dir)) return;
      subdirs.set(dir, []);
      const parent = dirOf(dir);
      register(parent);
      subdirs.get(parent)!.push(dir.slice(parent === "" ? 0 : parent.length + 1));
    };
    for (let i = 0; i < n; i++) {
      const dir = dirOf(entries[i]!.path);
      let bucket = buckets.get(dir);
      if (!bucket) {
        bucket = [];
        buckets.set(dir, bucket);
        register(dir);
      }
      bucket.push(i);
    }
    this.#paths = new Array<string>(n);
    this.#sizes = new NumberColumn(n, "size");
    this.#mtimes = new NumberColumn(n, "mtime");
    this.#modes = new Uint16Array(n);
    this.#etags = new EtagColumn(n);
    this.#live = new Uint8Array(n).fill(1);
    let slot = 0;
    const ranges = new Map<string, [number, number]>();
    for (const [dir, bucket] of buckets) {
      let sorted = true;
      for (let k = 1; k < bucket.length; k++) {
        if (entries[bucket[k - 1]!]!.path > entries[bucket[k]!]!.path) {
          sorted = false;
          break;
        }
      }
      if (!sorted) {
        bucket.sort((a, b) => {
          const pa = entries[a]!.path;
          const pb = entries[b]!.path;
          return pa < pb ? -1 : pa > pb ? 1 : 0;
        });
      }
      const start = slot;
      for (const i of bucket) {
        const e = entries[i]!;
        this.#paths[slot] = e.path;
        this.#sizes.set(slot, e.size);
        this.#mtimes.set(slot, e.mtime ?? Number.NaN);
        this.#modes[slot] = e.mode ?? 0;
        if (e.etag !== undefined) this.#etags.set(slot, e.etag);
        this.#liveBytes += e.size;
        slot++;
      }
      ranges.set(dir, [start, slot]);
    }
    for (const [dir, names] of subdirs) {
      const range = ranges.get(dir) ?? [0, 0];
      names.sort();
      this.#dirs.set(dir, { start: range[0], end: range[1], subdirs: names, live: 0 });
    }
    // Subtree live counts: each directory's own files, added to it and every ancestor.
    for (const [dir, [start, end]] of ranges) {
      const count = end - start;
      for (let d = dir; ; d = dirOf(d)) {
        this.#dirs.get(d)!.live += count;
        if (d === "") break;
      }
    }
    this.#liveCount = n;
  }

  /** Slots, live or dead. */
  get length(): number {
    return this.#paths.length;
  }

  get liveCount(): number {
    return this.#liveCount;
  }

  get liveBytes(): number {
    return this.#liveBytes;
  }

  /** The slot of `relPath`, live or dead, or -1. */
  find(relPath: string): number {
    const info = this.#dirs.get(dirOf(relPath));
    if (!info) return -1;
    let lo = info.start;
    let hi = info.end - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = this.#paths[mid]!;
      if (p === relPath) return mid;
      if (p < relPath) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The slot of a live stub at `relPath`, or -1. */
  findLive(relPath: string): number {
    const slot = this.find(relPath);
    return slot >= 0 && this.#live[slot] === 1 ? slot : -1;
  }

  isLive(slot: number): boolean {
    return this.#live[slot] === 1;
  }

  path(slot: number): string {
    return this.#paths[slot]!;
  }

  size(slot: number): number {
    return this.#sizes.get(slot);
  }

  /** NaN when the provider did not report one. */
  mtime(slot: number): number {
    return this.#mtimes.get(slot);
  }

  /** 0 when the provider did not report one. */
  mode(slot: number): number {
    return this.#modes[slot]!;
  }

  etag(slot: number): string | undefined {
    return this.#etags.get(slot);
  }

  entry(slot: number): MountEntry {
    const e: { path: string; size: number; mtime?: number; etag?: string; mode?: number } = {
      path: this.#paths[slot]!,
      size: this.#sizes.get(slot),
    };
    const mtime = this.#mtimes.get(slot);
    if (!Number.isNaN(mtime)) e.mtime = mtime;
    const etag = this.#etags.get(slot);
    if (etag !== undefined) e.etag = etag;
    const mode = this.#modes[slot]!;
    if (mode !== 0) e.mode = mode;
    return e;
  }

  /** Marks a stub dead (hydrated into memfs, overwritten or deleted). Idempotent. */
  kill(slot: number): void {
    if (this.#live[slot] !== 1) return;
    this.#live[slot] = 0;
    this.#liveCount--;
    this.#liveBytes -= this.#sizes.get(slot);
    for (let d = dirOf(this.#paths[slot]!); ; d = dirOf(d)) {
      const info = this.#dirs.get(d);
      if (info) info.live--;
      if (d === "") break;
    }
  }

  /**
   * (content cache) Makes a dead slot a live stub again: a clean hydrated file evicted from memfs.
   * `mtime` and `mode` are what the file showed (the stored metadata a fetch applied), so `stat`
   * does not change across the eviction; the mtime only where it is not what tells versions apart
   * (a slot without an etag is compared by size and mtime at refresh). Idempotent.
   */
  revive(slot: number, mtime: number, mode: number): void {
    if (this.#live[slot] !== 0) return;
    this.#live[slot] = 1;
    this.#liveCount++;
    this.#liveBytes += this.#sizes.get(slot);
    if (this.#etags.has(slot) || Number.isNaN(this.#mtimes.get(slot))) this.#mtimes.set(slot, mtime);
    this.#modes[slot] = mode;
    for (let d = dirOf(this.#paths[slot]!); ; d = dirOf(d)) {
      const info = this.#dirs.get(d);
      if (info) info.live++;
      if (d === "") break;
    }
  }

  /**
   * A new table with `entries` as live stubs, added or in place of the slots of the same paths;
   * every other slot keeps its metadata and liveness. (exec: a large file a command wrote goes to
   * its mount part by part and is a stub from then on, never held in memory.) O(n log n): meant
   * for a few large files at a time, not for every write.
   */
  with(entries: readonly MountEntry[]): StubTable {
    const replaced = new Set(entries.map((e) => e.path));
    const all: MountEntry[] = [];
    const dead: string[] = [];
    for (let slot = 0; slot < this.#paths.length; slot++) {
      const path = this.#paths[slot]!;
      if (replaced.has(path)) continue;
      all.push(this.entry(slot));
      if (this.#live[slot] !== 1) dead.push(path);
    }
    all.push(...entries);
    const next = new StubTable(all);
    for (const path of dead) next.kill(next.find(path));
    return next;
  }

  /** True when `relDir` (`""` for the root) holds at least one live stub somewhere below it. */
  hasDir(relDir: string): boolean {
    return (this.#dirs.get(relDir)?.live ?? 0) > 0;
  }

  /** Names of live stub files directly in `relDir`. */
  fileNames(relDir: string): string[] {
    const info = this.#dirs.get(relDir);
    if (!info || info.live === 0) return [];
    const cut = relDir === "" ? 0 : relDir.length + 1;
    const out: string[] = [];
    for (let s = info.start; s < info.end; s++) if (this.#live[s] === 1) out.push(this.#paths[s]!.slice(cut));
    return out;
  }

  /** Names of directories directly in `relDir` that still hold live stubs. */
  dirNames(relDir: string): readonly string[] {
    const info = this.#dirs.get(relDir);
    if (!info || info.live === 0) return EMPTY;
    const prefix = relDir === "" ? "" : `${relDir}/`;
    return info.subdirs.filter((name) => this.hasDir(prefix + name));
  }

  /** Relative paths of every directory that holds live stubs, parents first. */
  liveDirs(): string[] {
    const out: string[] = [];
    for (const [dir, info] of this.#dirs) if (dir !== "" && info.live > 0) out.push(dir);
    return out.sort();
  }

  /** Live slots under `relDir` (`""`: all), depth first. */
  *liveSlotsUnder(relDir: string): Generator<number> {
    const info = this.#dirs.get(relDir);
    if (!info || info.live === 0) return;
    for (let s = info.start; s < info.end; s++) if (this.#live[s] === 1) yield s;
    const prefix = relDir === "" ? "" : `${relDir}/`;
    for (const name of info.subdirs) yield* this.liveSlotsUnder(prefix + name);
  }
}
