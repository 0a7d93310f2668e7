import type { MountEntry } from "@ws/core";
import { EtagColumn } from "./etag-column.js";
import { NumberColumn } from "./number-column.js";

/** Identifies one mount's index: the same session, root and provider kind. */
export interface IndexKey {
  readonly sessionId: string;
  readonly root: string;
  readonly kind: string;
}

/** What a lazy mount's index looks like at rest: the sanitised listing, before ignore and shadowing. */
export interface StoredIndex {
  readonly kind: string;
  readonly entries: readonly MountEntry[];
  /** When `list()` ran (or the index was last saved), ms since the epoch. */
  readonly indexedAt: number;
}

/**
 * Where the workspace keeps index state, so that a restarted process does not call `list()` again
 * until `refreshMount`. Only lazy mounts are stored: an eager mount's content is its index, and it
 * materialises again in a new process.
 */
export interface IndexStore {
  load(key: IndexKey): Promise<StoredIndex | undefined>;
  save(key: IndexKey, index: StoredIndex): Promise<void>;
  delete(key: IndexKey): Promise<void>;
}

function keyString(key: IndexKey): string {
  return JSON.stringify([key.sessionId, key.root, key.kind]);
}

// Entries kept in columns rather than as objects: a million-entry index then costs a few tens of
// bytes per entry here (the path strings are shared with the stubs), not a hundred or more.
interface Columns {
  readonly kind: string;
  readonly indexedAt: number;
  readonly paths: string[];
  readonly sizes: NumberColumn;
  readonly mtimes: NumberColumn;
  readonly modes: Uint16Array;
  readonly etags: EtagColumn;
}

/** The default store: compact columns in this process. Share one instance between workspaces to reuse indexes. */
export class MemoryIndexStore implements IndexStore {
  readonly #map = new Map<string, Columns>();

  get size(): number {
    return this.#map.size;
  }

  async load(key: IndexKey): Promise<StoredIndex | undefined> {
    const c = this.#map.get(keyString(key));
    if (!c) return undefined;
    const entries: MountEntry[] = new Array(c.paths.length);
    for (let i = 0; i < c.paths.length; i++) {
      const e: { path: string; size: number; mtime?: number; etag?: string; mode?: number } = {
        path: c.paths[i]!,
        size: c.sizes.get(i),
      };
      const mtime = c.mtimes.get(i);
      if (!Number.isNaN(mtime)) e.mtime = mtime;
      const etag = c.etags.get(i);
      if (etag !== undefined) e.etag = etag;
      if (c.modes[i] !== 0) e.mode = c.modes[i]!;
      entries[i] = e;
    }
    return { kind: c.kind, entries, indexedAt: c.indexedAt };
  }

  async save(key: IndexKey, index: StoredIndex): Promise<void> {
    const n = index.entries.length;
    const c: Columns = {
      kind: index.kind,
      indexedAt: index.indexedAt,
      paths: new Array<string>(n),
      sizes: new NumberColumn(n, "size"),
      mtimes: new NumberColumn(n, "mtime"),
      modes: new Uint16Array(n),
      etags: new EtagColumn(n),
    };
    for (let i = 0; i < n; i++) {
      const e = index.entries[i]!;
      c.paths[i] = e.path;
      c.sizes.set(i, e.size);
      c.mtimes.set(i, e.mtime ?? Number.NaN);
      c.modes[i] = e.mode ?? 0;
      if (e.etag !== undefined) c.etags.set(i, e.etag);
    }
    this.#map.set(keyString(key), c);
  }

  async delete(key: IndexKey): Promise<void> {
    this.#map.delete(keyString(key));
  }
}

/**
 * The default when no `indexStore` is given: keeps nothing. A store private to one workspace
 * would only ever be read by that workspace mounting the same root again, and would give it the
 * old listing; meanwhile it held a second copy of every listing (about a third of what a stub
 * costs). A workspace without a store lists when it indexes; pass a `MemoryIndexStore` (shared
 * between workspaces of this process) or a `FileIndexStore` to reuse listings.
 */
export const NO_INDEX_STORE: IndexStore = Object.freeze({
  load: async (): Promise<StoredIndex | undefined> => undefined,
  save: async (): Promise<void> => undefined,
  delete: async (): Promise<void> => undefined,
});
