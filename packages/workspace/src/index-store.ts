import type { MountEntry } from "@ws/core";

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

/** The default store: a map in this process. Share one instance between workspaces to reuse indexes. */
export class MemoryIndexStore implements IndexStore {
  readonly #map = new Map<string, StoredIndex>();

  get size(): number {
    return this.#map.size;
  }

  async load(key: IndexKey): Promise<StoredIndex | undefined> {
    return this.#map.get(keyString(key));
  }

  async save(key: IndexKey, index: StoredIndex): Promise<void> {
    this.#map.set(keyString(key), {
      kind: index.kind,
      entries: [...index.entries],
      indexedAt: index.indexedAt,
    });
  }

  async delete(key: IndexKey): Promise<void> {
    this.#map.delete(keyString(key));
  }
}
