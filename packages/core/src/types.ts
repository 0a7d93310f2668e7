/**
 * The mount contract from seed 003, with the names and shapes it gives. Where the seed leaves
 * something open, the addition is marked "(ws mounts)" and is optional, so a provider written
 * against the seed alone still type-checks.
 */

export type MountMode = "read-only" | "read-write";
export type WriteBackMode = "debounce" | "manual";

/** Options every provider accepts beside its own configuration. */
export interface MountOptions {
  /** `"read-only"` (default) or `"read-write"`. */
  readonly mode?: MountMode | undefined;
  /**
   * Paths hidden from the index, from `ws.fs`, from exec materialisation and from the post-exec
   * pull. Unioned with the workspace-level `ignore`. A bare name (`node_modules`) hides that segment
   * anywhere; a pattern with glob characters or `/` is matched by picomatch (see `compileIgnore`).
   */
  readonly ignore?: readonly string[] | undefined;
  /** `"debounce"` (default) or `"manual"` (writes land only on `flushMounts()`). */
  readonly writeBack?: WriteBackMode | undefined;
  /** Debounce window per path in milliseconds (default 500). Ignored with `writeBack: "manual"`. */
  readonly writeBackMs?: number | undefined;
  /** Cap on the total bytes of the indexed entries (after ignore). Unbounded by default. */
  readonly maxBytes?: number | undefined;
  /** Cap on the number of indexed entries (after ignore). Unbounded by default. */
  readonly maxEntries?: number | undefined;
  /** (ws mounts) Called for backend keys that were skipped because they cannot be paths. */
  readonly onDiagnostic?: ((diagnostic: MountDiagnostic) => void) | undefined;
}

/** (ws mounts) Something a provider or the host skipped or repaired, with the reason. */
export interface MountDiagnostic {
  readonly code:
    | "invalid-path"
    | "duplicate-path"
    | "file-directory-conflict"
    | "invalid-size"
    | "shadowed"
    /** A symbolic link that was not followed (it leaves the root, dangles, or names a directory). */
    | "symlink-skipped"
    /** A FIFO, socket or device node: never read blindly. */
    | "special-file";
  /** The backend key or relative path as received. */
  readonly key: string;
  readonly message: string;
  readonly root?: string | undefined;
}

/** One file of a lazy mount, as `list()` reports it. Known without fetching the bytes. */
export interface MountEntry {
  /** Relative to the mount root, `/`-separated, no leading slash, no `.`/`..`/empty segments. */
  readonly path: string;
  /** Exact byte length of what `fetch(path)` returns. */
  readonly size: number;
  /** Last modification, milliseconds since the epoch. */
  readonly mtime?: number | undefined;
  /** Opaque version tag from the backend (an S3 ETag, a git blob SHA...). */
  readonly etag?: string | undefined;
  /** POSIX permission bits (`0o644`, `0o755`). */
  readonly mode?: number | undefined;
  /**
   * (ws mounts) `"file"` (default) or `"directory"`: an empty folder the backend keeps (an object
   * store's zero-byte `dir/` marker). A directory entry has size 0 and is never fetched; a folder
   * that also holds entries needs no entry of its own. Hosts that predate this field would list
   * it as a file, so providers only report directories to hosts that read `type` (all of
   * @ws/workspace).
   */
  readonly type?: "file" | "directory" | undefined;
}

/**
 * (ws mounts) What `fetchWithInfo` resolves to: the bytes, plus the metadata the backend returned
 * with them (an S3 GET's `x-amz-meta-*` headers, an R2 object's `customMetadata`). The host applies
 * `mode` and `mtime` when it hydrates the file: before that, `stat` shows what the listing said
 * (object-store listings carry no metadata, so the default 0o644 and the object's upload time).
 */
export interface FetchResult {
  /** Same contract as `fetch`'s result: exact, fresh, never touched again by the provider. */
  readonly bytes: Uint8Array;
  /**
   * POSIX mode. Permission bits, optionally with the file type bits: `S_IFLNK` (0o120000) says the
   * object is a symbolic link whose target is `bytes` (UTF-8), as s3fs stores links.
   */
  readonly mode?: number | undefined;
  /** Last modification, milliseconds since the epoch (the stored `mtime`, not the upload time). */
  readonly mtime?: number | undefined;
  readonly etag?: string | undefined;
}

/** (ws mounts) File type bits of a symbolic link in a POSIX mode (`S_IFLNK`). */
export const S_IFLNK = 0o120000;
/** (ws mounts) File type bits of a directory in a POSIX mode (`S_IFDIR`). */
export const S_IFDIR = 0o040000;
/** (ws mounts) Mask of the file type bits in a POSIX mode (`S_IFMT`). */
export const S_IFMT = 0o170000;

/** (ws mounts) Preconditions for `put`, as in HTTP. A provider that cannot honour one throws `ENOTSUP`. */
export interface PutOptions {
  /** Write only if the stored object's etag equals this one; otherwise `ESTALE`. */
  readonly ifMatch?: string | undefined;
  /** `"*"`: write only if nothing is stored at the path; otherwise `EEXIST`. */
  readonly ifNoneMatch?: "*" | undefined;
  /**
   * (ws mounts) The file's POSIX permission bits as the workspace has them (a command's `chmod`),
   * with group and other write cleared as a default umask would. Providers that keep modes (host
   * directories) apply them; the others ignore it. Not a precondition.
   */
  readonly mode?: number | undefined;
  /**
   * (ws mounts) The file's last modification (ms since the epoch), for providers that store it
   * (object stores as `mtime` metadata, host directories with `utimes`). Not a precondition.
   */
  readonly mtime?: number | undefined;
  /**
   * (ws mounts) This path is a symbolic link to `symlink`; `bytes` is the target in UTF-8. Sent
   * only to mounts that declare `symlinks: true`; they store it verbatim, whatever the target,
   * and give it back as a link (`FetchResult.mode` with `S_IFLNK`).
   */
  readonly symlink?: string | undefined;
}

/**
 * (ws mounts) The bytes of a file too large to hold in memory at once, read part by part: what
 * `putStream` uploads. A provider may read any range, in any order, and the same range again (a
 * retried part); each `read` resolves with a fresh array of exactly `end - start` bytes.
 */
export interface PutSource {
  /** Exact byte length of the file. */
  readonly size: number;
  /** Bytes `[start, end)`, `0 <= start <= end <= size`. */
  read(start: number, end: number): Promise<Uint8Array>;
  /**
   * Where the data is, for a sparse file: sorted, non-overlapping `[start, end)` ranges; every byte
   * outside them is zero (a hole). A provider that keeps holes (a host directory) writes only
   * these; the others send zeros for the holes without reading them (`sourceChunks`). Absent: the
   * whole file is data.
   */
  readonly extents?: ReadonlyArray<readonly [start: number, end: number]> | undefined;
}

/** (ws mounts) What `mkdir` keeps with a folder (object stores: as the marker's metadata). */
export interface MkdirOptions {
  /** The folder's POSIX permission bits (`0o700`); stored as s3fs does, with `S_IFDIR` type bits. */
  readonly mode?: number | undefined;
  /** Last modification, milliseconds since the epoch. */
  readonly mtime?: number | undefined;
}

/** (ws mounts) What a `put` may resolve to: the stored object's new version tag, when the backend tells it. */
export interface PutResult {
  readonly etag?: string | undefined;
}

export interface MountCommon {
  /** A short provider name for messages and metrics: `"s3"`, `"r2"`, `"memory"`. */
  readonly kind: string;
  /** True when the mount was created with `mode: "read-write"`. */
  readonly writable: boolean;
  /** (ws mounts) The common options the host applies: ignore, quotas, write-back. */
  readonly options?: MountOptions | undefined;
  /**
   * (ws mounts) `"directory"` (default) or `"file"`. A file mount's root is one file: its `list()`
   * yields exactly one entry, under the provider's own name for the file (any valid relative path),
   * and the host passes that same path back to `fetch`, `put` and `delete`. It may sit inside a
   * directory mount and then shadows that mount's entry at the same path.
   */
  readonly rootType?: "directory" | "file" | undefined;
  /** Write one file. Read-only mounts must throw `EROFS` rather than accept the write. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a seed-shaped put returning Promise<void> must still type-check.
  put?(relPath: string, bytes: Uint8Array, options?: PutOptions): Promise<void | PutResult>;
  /**
   * (ws mounts) `put` for a file read part by part from `source` (see `PutSource`), so a host can
   * write a file larger than its memory (S3: a multipart upload, one part in memory per upload
   * stream). Same contract as `put` otherwise (preconditions, metadata, `EROFS`). Hosts without it
   * read the file whole and call `put`.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: same shape as put.
  putStream?(relPath: string, source: PutSource, options?: PutOptions): Promise<void | PutResult>;
  /** Delete one file. Deleting a missing path succeeds (idempotent). Read-only mounts throw `EROFS`. */
  delete?(relPath: string): Promise<void>;
  /**
   * (ws mounts) Deletes several files in as few requests as the backend allows (S3's DeleteObjects:
   * up to 1,000 keys per request). Same contract as `delete` for each path (missing paths succeed;
   * read-only mounts throw `EROFS`); it rejects when any path may not be deleted, and the host then
   * deletes the batch's paths one by one. Hosts without it call `delete` for each path.
   */
  deleteMany?(relPaths: readonly string[]): Promise<void>;
  /**
   * (ws mounts) Keeps empty folders (an object store's zero-byte `dir/` marker). With it the host
   * calls `mkdir` for a folder made under a read-write mount and `rmdir` when it goes; `list()`
   * reports kept folders as `type: "directory"` entries.
   */
  mkdir?(relPath: string, options?: MkdirOptions): Promise<void>;
  /** (ws mounts) Forgets a folder kept by `mkdir` (idempotent). Files under it are deleted one by one. */
  rmdir?(relPath: string): Promise<void>;
  /** (ws mounts) `true`: `put` with `PutOptions.symlink` stores a symbolic link verbatim (see there). */
  readonly symlinks?: boolean | undefined;
  /** (ws mounts) Tear-down hook: called once by `Workspace.close()` after pending writes are flushed. */
  dispose?(): void | Promise<void>;
}

/** Random-access backends (R2, S3, HTTP): enumerate once, fetch each file on first read. */
export interface LazyMount extends MountCommon {
  readonly strategy?: "lazy";
  list(): Promise<MountEntry[]>;
  /**
   * The whole file as one exact `Uint8Array` (offset 0, not a view into a shared pool), fresh on
   * every call and never touched again by the provider: the host keeps it as the file's bytes
   * without copying.
   */
  fetch(relPath: string): Promise<Uint8Array>;
  /**
   * (ws mounts) `fetch` plus the metadata stored with the object (mode, mtime, etag). When present
   * the host calls it instead of `fetch`. Seed-shaped providers simply leave it out.
   */
  fetchWithInfo?(relPath: string): Promise<FetchResult>;
  /**
   * (ws mounts) Bytes `[start, end)` of a file (end exclusive), so a host can read part of a file
   * larger than memory without fetching it whole (an HTTP `Range` GET). The result is clipped at
   * the file's size: `start >= size` or `end <= start` gives an empty array (`end <= start` without
   * any I/O). Negative or non-integer offsets reject `EINVAL`; a missing file rejects `ENOENT`.
   * The result follows `fetch`'s contract (exact, fresh). Optional: a host without it fetches the
   * whole file.
   *
   * `into` (at least `end - start` bytes): a buffer the caller reuses (a reader's read-ahead
   * windows). A provider that can may write the bytes into it from offset 0 and return a view of
   * it (`into.subarray(0, n)`), so no fresh buffer is made per range; one that cannot ignores it
   * and returns a fresh array. The caller tells them apart by `result.buffer === into.buffer`.
   */
  fetchRange?(relPath: string, start: number, end: number, into?: Uint8Array): Promise<Uint8Array>;
  /** (ws mounts) `list()` again, bypassing any cache the provider keeps. Used by `refreshMount`. */
  refresh?(): Promise<MountEntry[]>;
  /**
   * (ws mounts) A change feed: the mount calls `onChange` when its listing changed by other means
   * than this host's own writes (another process or machine). The host subscribes once the mount is
   * indexed and then applies the change through its refresh path (`refresh()`, else `list()`), so no
   * caller has to call `refreshMount`. Calls are coalesced. Returns the function that unsubscribes.
   */
  watch?(onChange: () => void): () => void;
}

/** Backends that produce the whole tree in one transaction (a git clone, an archive). */
export interface EagerMount extends MountCommon {
  readonly strategy: "eager";
  /**
   * Writes the whole tree through `api`. Let errors thrown by `api` propagate (do not catch and
   * continue): the host refuses paths outside the root, links that leave it and quota overruns
   * there, and discards everything staged when `materialize` rejects.
   */
  materialize(api: MountWriteApi): Promise<void>;
}

export type Mount = LazyMount | EagerMount;

/** What `materialize()` writes through. Paths are absolute, under the mount root. */
export interface MountWriteApi {
  /**
   * (ws mounts) The mount root the paths are under. `defineEagerMount` needs it to turn the
   * provider's relative paths into absolute ones; @ws/workspace sets it.
   */
  readonly root?: string | undefined;
  writeFile(absPath: string, bytes: Uint8Array, mode?: number): void;
  /**
   * (ws mounts) Like `writeFile`, but `bytes` become the host's: the caller never reads, writes or
   * passes them anywhere again, so the host may keep them as the file's content instead of copying
   * them. For a provider that made a fresh array per file (an archive member as it is inflated).
   * `bytes` may be a view into a larger buffer whose other ranges nobody writes (other files of
   * the same bundle): the host may keep the view, and the buffer with it while the file exists,
   * but must not transfer or detach `bytes.buffer` (other files live in it).
   * Optional: `defineEagerMount`'s writer falls back to `writeFile` on a host without it.
   */
  adoptFile?(absPath: string, bytes: Uint8Array, mode?: number): void;
  mkdir(absPath: string, mode?: number): void;
  /**
   * (ws mounts) A symbolic link. The host rejects targets that resolve outside the mount root
   * (`EINVAL`); a host without symlink support leaves this undefined.
   */
  symlink?(absPath: string, target: string): void;
}

/** The promise-based file API a mount factory receives; `Workspace.fs` implements it. */
export interface VFS {
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  stat(
    path: string,
  ): Promise<{ readonly size: number; readonly mtimeMs: number; isFile(): boolean; isDirectory(): boolean }>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<string | undefined>;
  rm(path: string, options?: { recursive?: boolean; force?: boolean }): Promise<void>;
  exists(path: string): Promise<boolean>;
}

export interface MountContext {
  /** The session's identity (the agent's name): per-session mounts derive prefixes from it. */
  readonly sessionId: string;
  /** Absolute mount root, normalised, no trailing slash. */
  readonly root: string;
  /** Direct VFS handle for fs-shaped consumers. */
  readonly vfs: VFS;
}

/** Called once, on first index. Returning a promise is allowed (ws mounts). */
export type MountFactory = (ctx: MountContext) => Mount | Promise<Mount>;

export function isEagerMount(mount: Mount): mount is EagerMount {
  return mount.strategy === "eager";
}

export function isLazyMount(mount: Mount): mount is LazyMount {
  return mount.strategy !== "eager";
}
