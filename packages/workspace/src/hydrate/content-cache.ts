import { MountError } from "@ws/core";
import type { MemVol } from "../mem-vol.js";
import type { Mirror } from "../mirror/mirror.js";
import type { WorkspaceContext } from "../runtime/context.js";
import type { MountView, Namespace } from "../vfs/namespace.js";
import type { CacheUsage } from "../workspace-options.js";

/** What the cache needs from the other parts to tell a clean file and to turn it back into a stub. */
export interface ContentCacheParts {
  readonly ctx: WorkspaceContext;
  readonly ns: Namespace;
  /** Host access to memfs (no permission checks). */
  readonly vol: MemVol;
  readonly mirror: (root: string) => Mirror | undefined;
}

interface Entry {
  readonly view: MountView;
  readonly rel: string;
  readonly size: number;
  /** The mode and mtime the file had when hydrated: a `chmod`/`utimes` since is a local change. */
  readonly mode: number;
  readonly mtimeMs: number;
}

/** Files an operation is using (see `ContentCache.pins`). */
export interface PinSet {
  add(abs: string): void;
  /** Lets every file added go (idempotent), then evicts what is over the budget. */
  release(): void;
}

/** Without a budget nothing is pinned: one shared set that does nothing, no allocation per call. */
const NO_PINS: PinSet = Object.freeze({ add: () => undefined, release: () => undefined });

/** `cache.maxBytes`: a positive integer, or undefined (no budget). */
export function cacheBudget(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new MountError("EINVAL", `cache.maxBytes must be a positive integer (bytes), got ${String(value)}`);
  }
  return value;
}

/** The default of `cache.maxFileBytes`: a stub larger than this is read through, not kept. */
export const DEFAULT_MAX_FILE_BYTES: number = 64 * 1024 * 1024;

/** `cache.maxFileBytes`: a positive integer or `Infinity` (keep files of any size); default 64 MiB. */
export function cacheFileLimit(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_FILE_BYTES;
  if (value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new MountError(
      "EINVAL",
      `cache.maxFileBytes must be a positive integer (bytes) or Infinity, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * The content budget (`new Workspace({ cache: { maxBytes } })`): files hydrated from lazy mounts
 * are kept in least-recently-used order, and when their bytes exceed the budget the oldest clean
 * ones go back to being stubs (fetched again on the next read). A file is clean when the mirror
 * knows of no local change to it (nothing written, pending, journaled or local-only) and memfs
 * still holds the listed size; anything else is never evicted, only forgotten by the cache.
 *
 * Eviction never takes a file from under an operation that is using it: an operation that hydrates
 * or resolves a file to use it next holds it in a `PinSet` it releases when done (explicit rather
 * than an AsyncLocalStorage scope per call, which costs every promise of the process on Node 20).
 * `hold` stops evictions altogether (exec, refresh: they work from a snapshot of what is local).
 * The file just hydrated is never evicted by its own arrival, so what is resident stays within
 * the budget plus the largest single file. Without a budget nothing is tracked and nothing
 * changes.
 */
export class ContentCache {
  readonly maxBytes: number | undefined;
  readonly #p: ContentCacheParts;
  /** Workspace path → entry; Map order is recency, least recently used first. */
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  readonly #pins = new Map<string, number>();
  #holds = 0;

  /** The largest stub a read keeps: the smaller of `cache.maxFileBytes` and the budget. */
  readonly maxFileBytes: number;

  constructor(
    parts: ContentCacheParts,
    maxBytes: number | undefined,
    maxFileBytes: number = DEFAULT_MAX_FILE_BYTES,
  ) {
    this.#p = parts;
    this.maxBytes = maxBytes;
    this.maxFileBytes = Math.min(maxFileBytes, maxBytes ?? Number.POSITIVE_INFINITY);
  }

  get enabled(): boolean {
    return this.maxBytes !== undefined;
  }

  /** Bytes of hydrated files the cache holds now, and how many files. */
  usage(): CacheUsage {
    return {
      maxBytes: this.maxBytes,
      residentBytes: this.#bytes,
      files: this.#entries.size,
      evictions: this.#p.ctx.stats.evictions,
      evictedBytes: this.#p.ctx.stats.evictedBytes,
    };
  }

  /**
   * True when a stub of `size` bytes is too large to keep (over `cache.maxFileBytes` or the
   * budget): `readFile` hands its bytes over instead, so the caller's buffer is the only copy.
   */
  passThrough(size: number): boolean {
    return size > this.maxFileBytes;
  }

  /** A set of pins for one operation: what it adds stays local until `release()`. */
  pins(): PinSet {
    if (!this.enabled) return NO_PINS;
    const held: string[] = [];
    return {
      add: (abs) => {
        held.push(abs);
        this.#pins.set(abs, (this.#pins.get(abs) ?? 0) + 1);
      },
      release: () => {
        for (const abs of held.splice(0)) {
          const n = (this.#pins.get(abs) ?? 1) - 1;
          if (n <= 0) this.#pins.delete(abs);
          else this.#pins.set(abs, n);
        }
        this.#evict(undefined);
      },
    };
  }

  /** Runs `fn` with evictions stopped (exec, refresh), then evicts what is over the budget. */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.enabled) return fn();
    this.#holds++;
    try {
      return await fn();
    } finally {
      this.#holds--;
      this.#evict(undefined);
    }
  }

  /** A stub of `view` was hydrated into memfs at `abs`. */
  added(view: MountView, rel: string, abs: string): void {
    if (!this.enabled) return;
    const st = this.#p.ns.memFile(abs);
    if (!st) return;
    const size = st.size;
    const old = this.#entries.get(abs);
    if (old) {
      this.#entries.delete(abs);
      this.#bytes -= old.size;
    }
    this.#entries.set(abs, { view, rel, size, mode: Number(st.mode) & 0o7777, mtimeMs: st.mtimeMs });
    this.#bytes += size;
    this.#evict(abs);
  }

  /** A mount was removed: its files leave the budget (its subtree left memfs with it). */
  forget(root: string): void {
    for (const [abs, entry] of this.#entries) {
      if (entry.view.root !== root) continue;
      this.#entries.delete(abs);
      this.#bytes -= entry.size;
    }
  }

  /** `abs` was read: it becomes the most recently used. */
  touched(abs: string): void {
    const entry = this.#entries.get(abs);
    if (!entry) return;
    this.#entries.delete(abs);
    this.#entries.set(abs, entry);
  }

  #evict(except: string | undefined): void {
    const max = this.maxBytes;
    if (max === undefined || this.#bytes <= max || this.#holds > 0) return;
    for (const [abs, entry] of this.#entries) {
      if (this.#bytes <= max) return;
      if (abs === except || this.#pins.has(abs)) continue;
      this.#entries.delete(abs);
      this.#bytes -= entry.size;
      this.#evictOne(abs, entry);
    }
  }

  /** Turns a clean hydrated file back into its stub; anything else is left alone (just forgotten). */
  #evictOne(abs: string, entry: Entry): void {
    const { ns, vol, ctx } = this.#p;
    const { view, rel } = entry;
    if (ns.view(view.root) !== view) return; // unmounted since
    const stubs = view.stubs;
    const slot = stubs.find(rel);
    if (slot < 0 || stubs.isLive(slot)) return;
    const mirror = this.#p.mirror(view.root);
    if (!mirror || mirror.isModified(rel) || mirror.has(rel) || mirror.isLocalOnly(rel)) return;
    const st = ns.memFile(abs);
    if (!st || st.size !== stubs.size(slot) || st.size !== entry.size) return;
    // chmod and utimes change only the VFS until the next write: such a file is not clean either.
    if ((Number(st.mode) & 0o7777) !== entry.mode || st.mtimeMs !== entry.mtimeMs) return;
    vol.unlinkSync(abs);
    stubs.revive(slot, st.mtimeMs, Number(st.mode) & 0o7777);
    ctx.stats.evictions++;
    ctx.stats.evictedBytes += entry.size;
    ctx.emit("evict", { root: view.root, path: abs, bytes: entry.size });
  }
}
