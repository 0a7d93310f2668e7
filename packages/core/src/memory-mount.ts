import { type DefinedLazyMount, defineLazyMount, type RawEntry } from "./define-mount.js";
import { invalid, MountError, notFound } from "./errors.js";
import { paginate } from "./paginate.js";
import { ancestorsOf, normalizeKeyPrefix } from "./paths.js";
import { decodePosixMetadata, encodePosixMetadata } from "./posix-metadata.js";
import { readSource } from "./put-source.js";
import type { MountOptions, PutOptions } from "./types.js";

/** One stored object. `bytes` is owned by the store: never hand it out without copying. */
export interface MemoryObject {
  readonly bytes: Uint8Array;
  readonly mtime: number;
  readonly etag: string;
  /** (ws mounts) User metadata, as an object store keeps it (`mode`, `mtime` in s3fs's form). */
  readonly meta?: Readonly<Record<string, string>> | undefined;
}

export type MemoryFiles =
  | Readonly<Record<string, string | Uint8Array>>
  | Iterable<readonly [string, string | Uint8Array]>;

const encoder = new TextEncoder();

function toBytes(data: string | Uint8Array): Uint8Array {
  // Copy, so a caller mutating its buffer afterwards cannot change what is stored.
  return typeof data === "string" ? encoder.encode(data) : new Uint8Array(data);
}

/** The first index whose element is >= `value` (binary search over sorted strings). */
function lowerBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// FNV-1a over the bytes: synchronous, deterministic and good enough to tell versions apart.
function etagOf(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return `${(h >>> 0).toString(16).padStart(8, "0")}-${bytes.length.toString(16)}`;
}

/**
 * A flat key → bytes map that behaves like an object store: keys are arbitrary strings, there
 * are no directories. It is the "backend" behind `MemoryMount`; tests seed and inspect it
 * directly, never through the mount under test.
 */
export class MemoryStore {
  readonly #objects = new Map<string, MemoryObject>();
  #sorted: string[] | undefined;
  #clock = 0;

  constructor(files?: MemoryFiles) {
    if (files) this.putAll(files);
  }

  /** Stores every pair of a record or of an iterable of `[key, data]` pairs. */
  putAll(files: MemoryFiles): void {
    const pairs = Symbol.iterator in files ? files : Object.entries(files);
    for (const [key, data] of pairs as Iterable<readonly [string, string | Uint8Array]>) this.put(key, data);
  }

  get size(): number {
    return this.#objects.size;
  }

  put(key: string, data: string | Uint8Array, meta?: Readonly<Record<string, string>>): MemoryObject {
    const bytes = toBytes(data);
    // Strictly increasing mtimes, so two writes in one millisecond are still ordered.
    this.#clock = Math.max(this.#clock + 1, Date.now());
    const object: MemoryObject = {
      bytes,
      mtime: this.#clock,
      etag: etagOf(bytes),
      ...(meta && Object.keys(meta).length > 0 ? { meta: { ...meta } } : {}),
    };
    if (!this.#objects.has(key)) this.#sorted = undefined;
    this.#objects.set(key, object);
    return object;
  }

  get(key: string): MemoryObject | undefined {
    return this.#objects.get(key);
  }

  has(key: string): boolean {
    return this.#objects.has(key);
  }

  delete(key: string): boolean {
    const deleted = this.#objects.delete(key);
    if (deleted) this.#sorted = undefined;
    return deleted;
  }

  clear(): void {
    this.#objects.clear();
    this.#sorted = undefined;
  }

  /** Keys starting with `prefix`, sorted. */
  keys(prefix = ""): string[] {
    const sorted = this.#sortedKeys();
    const out: string[] = [];
    for (let i = lowerBound(sorted, prefix); i < sorted.length && sorted[i]!.startsWith(prefix); i++)
      out.push(sorted[i]!);
    return out;
  }

  /**
   * One page of keys starting with `prefix`, in sorted order, strictly after `startAfter`: the
   * shape of S3's ListObjectsV2 and R2's cursor listing, so `MemoryMount` runs a real page loop.
   */
  listPage(
    prefix: string,
    startAfter: string | undefined,
    limit: number,
  ): { keys: string[]; truncated: boolean } {
    const sorted = this.#sortedKeys();
    let i = lowerBound(sorted, prefix);
    if (startAfter !== undefined && startAfter >= prefix) {
      i = lowerBound(sorted, startAfter);
      if (sorted[i] === startAfter) i++;
    }
    const keys: string[] = [];
    for (; i < sorted.length && sorted[i]!.startsWith(prefix) && keys.length < limit; i++)
      keys.push(sorted[i]!);
    return { keys, truncated: i < sorted.length && sorted[i]!.startsWith(prefix) };
  }

  // Sorted once and kept until a key is added or removed, so a paged listing of a million keys
  // costs one sort rather than one per page.
  #sortedKeys(): string[] {
    this.#sorted ??= [...this.#objects.keys()].sort();
    return this.#sorted;
  }

  /** True when some key lies below `key` + `/`. */
  hasChildren(key: string): boolean {
    const prefix = `${key}/`;
    for (const k of this.#objects.keys()) if (k.startsWith(prefix)) return true;
    return false;
  }
}

export interface MemoryMountOptions extends MountOptions {
  /** The backend. Created from `files` when omitted. */
  readonly store?: MemoryStore | undefined;
  /** Initial content for a new store: relative path → text or bytes. */
  readonly files?: MemoryFiles | undefined;
  /** Only keys under this prefix are visible, with the prefix stripped (`"team/a"` or `""`). */
  readonly prefix?: string | undefined;
  /** `"file"` for a single-file mount: the store must then hold exactly one visible key. */
  readonly rootType?: "directory" | "file" | undefined;
  /** Keys per listing page (default 1000, as S3 and R2). `list()` walks every page. */
  readonly pageSize?: number | undefined;
  /**
   * (ws mounts) Keep empty folders as zero-byte `folder/` keys, as S3Bucket and R2Bucket do, and
   * list such keys as folders. Default false (folders then live in the workspace only).
   */
  readonly directoryMarkers?: boolean | undefined;
  /** (ws mounts) Store symbolic links (s3fs's form: the target as the body, `mode` with S_IFLNK). Default false. */
  readonly symlinks?: boolean | undefined;
}

export interface MemoryMountInstance extends DefinedLazyMount {
  readonly kind: "memory";
  readonly strategy: "lazy";
  readonly store: MemoryStore;
  readonly prefix: string;
}

/**
 * The reference lazy provider: an in-memory object store that implements the contract exactly.
 * It is the positive control of the conformance suite, and is built with `defineLazyMount` like
 * every other provider: it only does the store's I/O.
 *
 * ```ts
 * const mount = MemoryMount({ files: { "README.md": "# hi" }, mode: "read-write" });
 * ```
 */
export function MemoryMount(options: MemoryMountOptions = {}): MemoryMountInstance {
  const store = options.store ?? new MemoryStore(options.files);
  const pageSize = options.pageSize ?? 1000;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw invalid(`pageSize must be a positive integer, got ${String(options.pageSize)}`);
  }
  const prefix = normalizeKeyPrefix(options.prefix);
  const base = prefix === "" ? "" : `${prefix}/`;
  const mount = defineLazyMount({
    kind: "memory",
    options,
    prefix,
    rootType: options.rootType ?? "directory",
    refresh: false,
    extra: { store },

    listPages: () =>
      paginate<RawEntry, string>(
        async (cursor) => {
          const page = store.listPage(base, cursor, pageSize);
          const items: RawEntry[] = [];
          for (const key of page.keys) {
            const object = store.get(key);
            // A key deleted between pages is simply gone, as on a real object store.
            if (!object) continue;
            // A folder marker's stored mode is listed (as R2's listing carries metadata; S3Bucket
            // reads it per marker): folders keep their mode without a fetch.
            const folderMode =
              key.endsWith("/") && object.bytes.length === 0
                ? decodePosixMetadata(object.meta).mode
                : undefined;
            items.push({
              key,
              size: object.bytes.length,
              mtime: object.mtime,
              etag: object.etag,
              ...(folderMode === undefined ? {} : { mode: folderMode }),
            });
          }
          return { items, truncated: page.truncated && page.keys.length > 0, cursor: page.keys.at(-1) };
        },
        { what: `memory:${base || "/"}` },
      ),

    async fetch(key, { relPath }) {
      return new Uint8Array(objectAt(key, relPath).bytes);
    },

    // Mode and mtime kept as user metadata (always), read back as an object store's GET does.
    async fetchWithInfo(key, { relPath }) {
      const object = objectAt(key, relPath);
      const { mode, mtime } = decodePosixMetadata(object.meta);
      return {
        bytes: new Uint8Array(object.bytes),
        ...(mode === undefined ? {} : { mode }),
        ...(mtime === undefined ? {} : { mtime }),
        etag: object.etag,
      };
    },
    async fetchRange(key, start, end, { relPath, into }) {
      const bytes = objectAt(key, relPath).bytes;
      const part = bytes.subarray(Math.min(start, bytes.length), Math.min(end, bytes.length));
      if (into === undefined) return part.slice();
      into.set(part);
      return into.subarray(0, part.length);
    },
    directoryMarkers: options.directoryMarkers === true,
    symlinks: options.symlinks === true,

    put: (key, bytes, putOptions, { relPath }) => write(key, bytes, putOptions, relPath),
    // The store holds bytes, so a streamed file is read whole (a check of the host's streaming path).
    putStream: async (key, source, putOptions, { relPath }) =>
      write(key, await readSource(source), putOptions, relPath),

    async delete(key) {
      store.delete(key);
    },

    async deleteMany(keys) {
      for (const key of keys) store.delete(key);
    },
  });
  async function write(
    key: string,
    bytes: Uint8Array,
    putOptions: PutOptions,
    relPath: string,
  ): Promise<{ etag: string }> {
    if (store.hasChildren(key)) {
      throw new MountError("EISDIR", `cannot write ${relPath}: it is a directory`, { syscall: "write" });
    }
    for (const ancestor of ancestorsOf(relPath)) {
      if (store.has(base + ancestor)) {
        throw new MountError("ENOTDIR", `cannot write ${relPath}: ${ancestor} is a file`, {
          syscall: "write",
        });
      }
    }
    const current = store.get(key);
    if (putOptions.ifNoneMatch === "*" && current) {
      throw new MountError("EEXIST", `${relPath} already exists (ifNoneMatch: "*")`, { syscall: "write" });
    }
    if (putOptions.ifMatch !== undefined && current?.etag !== putOptions.ifMatch) {
      throw new MountError("ESTALE", `${relPath} changed since etag ${putOptions.ifMatch} (ifMatch failed)`, {
        syscall: "write",
      });
    }
    // store.put copies: the caller may reuse its buffer once this resolves.
    return { etag: store.put(key, bytes, encodePosixMetadata(putOptions)).etag };
  }
  function objectAt(key: string, relPath: string): MemoryObject {
    const object = store.get(key);
    if (!object) {
      if (store.hasChildren(key)) {
        throw new MountError("EISDIR", `${relPath} is a directory, not a file`, { syscall: "read" });
      }
      throw notFound(relPath, { syscall: "open" });
    }
    return object;
  }
  // Files given with a store of one's own are added to it (after validation of the options).
  if (options.store && options.files) store.putAll(options.files);
  return mount as MemoryMountInstance;
}
