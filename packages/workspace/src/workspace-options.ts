import type { Mount, MountDiagnostic, MountError, MountFactory } from "@ws/core";
import type { SandboxMode } from "./exec/sandbox.js";
import type { IndexStore } from "./index-store.js";

export type { SandboxMode };

/**
 * The answer to a conflict. `"accept"` (default): the exec side (or upstream, for a refresh) wins.
 * `"keep-local"`: keep the API-side write in the VFS and skip the mirror of the other side for this
 * path; this is the seed's `"keep-do"` (the DO side of the seed is the `ws.fs` side here), which
 * is accepted as an alias.
 */
export type ConflictResolution = "accept" | "keep-local" | "keep-do";

/** What collided. */
export type ConflictKind =
  /** An exec changed a path that had an unflushed `ws.fs` write. */
  | "exec"
  /** `refreshMount` saw upstream change a path that has an unflushed local write. */
  | "refresh"
  /** A put or delete kept failing after every retry; the VFS still holds the local state. */
  | "write-failed"
  /**
   * Write-back found upstream changed by another writer since the version this write was based
   * on (`ifMatch` refused: 412 / `ESTALE`). `"keep-local"` overwrites upstream; anything else
   * lets upstream's version replace the local one (the flush reports the write as not landed).
   */
  | "version"
  /** An exec changed a path under a read-only mount: kept in the VFS, never mirrored. */
  | "read-only"
  /**
   * An exec created or replaced a path holding a stored file it could not see (a stub it was not
   * given): the stored file is kept; the command's version is kept beside it (`keptAs`), or, for a
   * folder made over it, not pulled back.
   */
  | "unseen";

/** Facts about one side of a conflict, known without reading bytes. */
export interface ConflictSide {
  /** False when that side deleted the path. */
  readonly exists: boolean;
  readonly size?: number | undefined;
  readonly mtimeMs?: number | undefined;
  readonly etag?: string | undefined;
}

export interface MountConflict {
  readonly kind: ConflictKind;
  /** The mount root. */
  readonly root: string;
  /** Relative to the root. */
  readonly relPath: string;
  /** Absolute workspace path. */
  readonly path: string;
  /** The `ws.fs` side (the seed's `doRev`). */
  readonly local: ConflictSide;
  /** The exec side (the seed's `containerRev`) or the upstream side for `"refresh"` and `"version"`. */
  readonly remote: ConflictSide;
  /** The seed's name for `local`. */
  readonly doRev?: ConflictSide | undefined;
  /** The seed's name for `remote`. */
  readonly containerRev?: ConflictSide | undefined;
  /** For `"write-failed"`: the last error. */
  readonly error?: unknown;
  /** For `"unseen"`: the workspace path where the command's bytes were kept (absent for a folder). */
  readonly keptAs?: string | undefined;
}

/** Called for every conflict. Its answer matters for `"exec"` only: refresh always keeps unflushed local writes, a failed write stays pending, a read-only change stays local. */
export type MountConflictHandler = (
  conflict: MountConflict,
) => ConflictResolution | undefined | Promise<ConflictResolution | undefined>;

export interface RetryOptions {
  /** Attempts after the first one (default 5). */
  readonly retries?: number | undefined;
  /** First back-off delay in ms (default 100); doubles on each retry, with full jitter. */
  readonly minDelayMs?: number | undefined;
  /** Cap on one delay in ms (default 5000). */
  readonly maxDelayMs?: number | undefined;
}

export interface WorkspaceOptions {
  /** Absolute mount root → mount or factory. Roots may not nest (a single-file mount may sit inside a directory mount). */
  readonly mounts?: Readonly<Record<string, Mount | MountFactory>> | undefined;
  /** Ignore patterns for every mount and for plain workspace paths; unioned with each mount's own `ignore`. */
  readonly ignore?: readonly string[] | undefined;
  /** Called on conflicts; see {@link ConflictResolution}. */
  readonly onMountConflict?: MountConflictHandler | undefined;
  /** Where index state lives, to reuse listings. Default: none (every index lists); `MemoryIndexStore` shares listings between workspaces of one process, `FileIndexStore` across processes. */
  readonly indexStore?: IndexStore | undefined;
  /** Passed to factories as `MountContext.sessionId`, and keys the index store. Default `"default"`. */
  readonly sessionId?: string | undefined;
  /** Bound on parallel fetches (prefetch), puts and deletes (flush, exec mirror). Default 8. */
  readonly concurrency?: number | undefined;
  /** Back-off for failed puts and deletes. */
  readonly retry?: RetryOptions | undefined;
  /**
   * `"detect"` (default): write-back of a path whose upstream version (etag) is known sends
   * `ifMatch`, and a refusal is a `"version"` conflict, never a silent overwrite.
   * `"last-writer-wins"`: plain puts, whoever writes last wins.
   */
  readonly writeConflicts?: "detect" | "last-writer-wins" | undefined;
  /**
   * A directory for the durable write-back journal: every write to a read-write mount is recorded
   * there (fsync'd) before the call resolves, and a workspace opened over the same directory
   * replays what the provider had not acknowledged. Default: none (a crash loses pending writes).
   */
  readonly journal?: string | undefined;
  /**
   * Flush pending writes (then close) on `SIGTERM`, `SIGINT` and when the event loop empties
   * (`beforeExit`), then let the signal take its course. Default false.
   */
  readonly flushOnExit?: boolean | undefined;
  /**
   * The lasting exec directory: every `exec` runs over it (`WS_ROOT`), from the first one until
   * `close()`, kept in sync with the VFS both ways. Created if missing; must be empty (else `EEXIST`
   * at the first exec). Default: a new directory under `os.tmpdir()` (or the first exec's `tmpDir`).
   */
  readonly execDir?: string | undefined;
  /** Leave the exec directory in place at `close()` (default: removed). */
  readonly keepExecDir?: boolean | undefined;
  /**
   * The content budget. `maxBytes`: the bytes of files hydrated from lazy mounts kept in memory;
   * beyond it the least recently used clean files become stubs again (fetched again when read),
   * and a stub larger than the budget is read through without being kept. Files with local
   * changes are never evicted. Default: no budget (everything read stays in memory, except single
   * files over `maxFileBytes`).
   */
  readonly cache?: CacheOptions | undefined;
}

/** `new Workspace({ cache })`. */
export interface CacheOptions {
  /** Budget in bytes for hydrated, clean files (a positive integer). */
  readonly maxBytes?: number | undefined;
  /**
   * The largest file `readFile` keeps when it fetches a stub (bytes, or `Infinity`). A larger one
   * is handed to the caller as fetched and stays a stub, so reading it costs its size once rather
   * than twice (the kept copy plus the caller's); the next read fetches it again. Default 64 MiB,
   * with or without a budget; a budget smaller than it lowers it. Streams, handles and `exec`
   * are unaffected.
   */
  readonly maxFileBytes?: number | undefined;
}

/** `ws.cache`: what the content budget holds now. */
export interface CacheUsage {
  /** The budget, or undefined when there is none (then nothing is tracked). */
  readonly maxBytes: number | undefined;
  /** Bytes of hydrated files counted against the budget. */
  readonly residentBytes: number;
  /** Hydrated files counted against the budget. */
  readonly files: number;
  readonly evictions: number;
  readonly evictedBytes: number;
}

export interface PrefetchProgress {
  readonly root: string;
  /** Files hydrated so far in this call (including failures). */
  readonly done: number;
  readonly total: number;
  readonly bytes: number;
  /** The file just finished. */
  readonly path: string;
}

export interface PrefetchOptions {
  readonly onProgress?: ((progress: PrefetchProgress) => void) | undefined;
  /** Overrides the workspace `concurrency` for this call. */
  readonly concurrency?: number | undefined;
}

export interface PrefetchResult {
  readonly files: number;
  readonly bytes: number;
  /** Files whose fetch failed; they stay stubs. */
  readonly failed: ReadonlyArray<{ readonly path: string; readonly error: unknown }>;
}

export interface RefreshResult {
  readonly root: string;
  readonly added: string[];
  readonly changed: string[];
  readonly deleted: string[];
  /** Paths kept because they have unflushed local writes. */
  readonly kept: string[];
  readonly conflicts: MountConflict[];
}

export interface ExecOptions {
  /** Working directory as a workspace path (default `/`). */
  readonly cwd?: string | undefined;
  /** Environment; default `process.env`. `WS_ROOT` is always set to the host directory. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * Hydrate lazy stubs before the command: `true` for every mount, `false` for none (stubs are
   * absent on the exec side, as the seed describes), or a list of mount roots, workspace paths (a
   * folder: everything below it) and globs (`/m/src/**\/*.py`; a bare name or a glob without `/`,
   * such as `*.py`, matches at any depth). Default `"auto"`: the stubs under `cwd` are fetched when
   * they fit `hydrateBudget`; when they do not, none is fetched and the result's `absent` says how
   * many files under which folder the command could not see.
   */
  readonly hydrate?: boolean | "auto" | readonly string[] | undefined;
  /** The most `hydrate: "auto"` fetches before a command (default 1,000 files and 32 MiB). */
  readonly hydrateBudget?: { readonly maxFiles?: number; readonly maxBytes?: number } | undefined;
  /** Bytes written to the child's stdin. */
  readonly input?: string | Uint8Array | undefined;
  /** Kill the child (SIGKILL) after this many ms; the pull still runs. */
  readonly timeoutMs?: number | undefined;
  /** Run through `/bin/sh -c` (the command is then a shell line). Default false. */
  readonly shell?: boolean | undefined;
  /** Leave the workspace's exec directory in place at `close()` (as `keepExecDir`). Default false. */
  readonly keepDir?: boolean | undefined;
  /** Parent of the exec directory when the first exec creates it (no `execDir` given). Default `os.tmpdir()`. */
  readonly tmpDir?: string | undefined;
  /**
   * Run the command under bubblewrap so it sees every mount at its own path, read-only mounts
   * bound read-only (the kernel refuses writes there) and the rest of the system read-only.
   * `"auto"` probes once and falls back to `"none"` with a `sandbox` event saying why; `"bwrap"`
   * refuses to run without it (`ENOTSUP`). Default `"none"`: the command runs over the host
   * directory (`WS_ROOT`) and changes under read-only mounts are dropped and reported afterwards.
   */
  readonly sandbox?: SandboxMode | undefined;
  /** `"pipe"` (default) collects stdout and stderr into the result; `"inherit"` gives the command this process's terminal. */
  readonly stdio?: "pipe" | "inherit" | undefined;
  /** Signals of this process passed on to the command while it runs (the pull and write-back still follow). */
  readonly forwardSignals?: readonly NodeJS.Signals[] | undefined;
  /**
   * Under bwrap, show host-directory mounts (mounts with a `hostPath`, such as `@ws/mount-fs`'s
   * `HostDir`, without ignore or quota) by binding the directory itself instead of a copy: nothing
   * is fetched or copied, and the command's writes to a read-write one land on the host directly
   * (the mount is listed again afterwards, and its changes reported as mirrored). Default false.
   */
  readonly bindHostDirs?: boolean | undefined;
  /**
   * Files the command leaves that are this large or larger (default 8 MiB) are never read into
   * memory: under a read-write mount that takes files part by part (`putStream`: S3, R2, host
   * directories) they go from the exec directory to the mount in parts (S3: a multipart upload)
   * and the workspace keeps them as stubs, read from the mount when asked for; a sparse file's holes
   * are not sent as data where the mount keeps holes (a host directory). Anywhere else (no mount, a
   * read-only or eager mount, a provider without `putStream`) they are read whole, as smaller files are.
   */
  readonly streamBytes?: number | undefined;
}

/** How one exec ran: under bwrap, or without a sandbox (with why, when `"auto"` fell back). */
export interface SandboxEvent {
  readonly use: "bwrap" | "none";
  readonly requested: SandboxMode;
  readonly reason?: string | undefined;
}

export interface ExecChanges {
  /** Workspace paths created by the command (applied to the VFS). */
  readonly added: string[];
  readonly modified: string[];
  readonly deleted: string[];
  /** Changes under read-only mounts: applied to the VFS, never mirrored. */
  readonly readOnly: string[];
  /** Paths mirrored to their mount (put or delete acknowledged). */
  readonly mirrored: string[];
  /** Conflicts with unflushed `ws.fs` writes, with the answer applied. */
  readonly conflicts: Array<MountConflict & { readonly resolution: "accept" | "keep-local" }>;
  /** Changes not applied or not mirrored, with why (quota, provider error...). */
  readonly errors: Array<{ readonly path: string; readonly error: unknown }>;
  /**
   * Paths under read-write mounts whose change did NOT reach the mount (their error is in
   * `errors`; the write stays pending: retried, and `flushMounts`/`close` reject naming it).
   * Empty when everything the command changed under read-write mounts landed.
   */
  readonly notMirrored: string[];
  /**
   * Hard links the command made under mounts: each group is one file under several names. Mounts
   * store every name as a separate file (a later change to one name does not reach the others).
   */
  readonly hardLinks: string[][];
  /**
   * FIFOs, sockets and devices the command left (`type`): never read (a FIFO would block), never
   * pulled back; whatever the workspace held at that path stays as it was. The rest of the pull goes on.
   */
  readonly skipped: Array<{
    readonly path: string;
    readonly type: "fifo" | "socket" | "block-device" | "character-device";
  }>;
}

export interface ExecResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly changes: ExecChanges;
  /** The workspace's lasting exec directory (`WS_ROOT`), the same for every command until `close()`. */
  readonly dir?: string | undefined;
  /** How the command ran. */
  readonly sandbox?: SandboxEvent | undefined;
  /**
   * Set when `hydrate: "auto"` fetched nothing because the stubs under the command's working
   * directory were over `hydrateBudget`: the command could not see these files (pass `hydrate`).
   */
  readonly absent?: { readonly under: string; readonly files: number; readonly bytes: number } | undefined;
}

/** Live counters. Read them at any time; they only grow. */
export interface WorkspaceStats {
  listCalls: number;
  materializeCalls: number;
  /** Mounts indexed from the index store without calling `list()`. */
  indexLoads: number;
  fetches: number;
  dedupHits: number;
  /** Bytes fetched from providers. */
  bytesIn: number;
  /** Bytes put to providers. */
  bytesOut: number;
  puts: number;
  deletes: number;
  /** Delete calls to providers: a batch (`deleteMany`, one S3 request per 1,000 keys) counts once. */
  deleteRequests: number;
  /** Writes folded into a later one by the debounce (a burst of N writes adds N - 1). */
  coalescedWrites: number;
  retries: number;
  conflicts: number;
  /** Failed puts/deletes after all retries. */
  writeFailures: number;
  execs: number;
  /** Clean hydrated files turned back into stubs by the content budget. */
  evictions: number;
  evictedBytes: number;
}

export interface IndexEvent {
  readonly root: string;
  readonly kind: string;
  readonly strategy: "lazy" | "eager";
  readonly entries: number;
  readonly bytes: number;
  /** True when the listing came from the index store. */
  readonly fromStore: boolean;
  readonly refresh: boolean;
}

export interface FetchEvent {
  readonly root: string;
  readonly path: string;
  readonly bytes: number;
}

/** A clean hydrated file went back to being a stub (the content budget). */
export interface EvictEvent {
  readonly root: string;
  readonly path: string;
  readonly bytes: number;
}

export interface WriteEvent {
  readonly root: string;
  readonly path: string;
  /** For puts. */
  readonly bytes?: number | undefined;
}

/** One failed provider call about to be retried by the retry layer (reads and writes alike). */
export interface RetryEvent {
  readonly root: string;
  /** The workspace path (the mount root for a listing). */
  readonly path: string;
  readonly op: "put" | "delete" | "fetch" | "list";
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

export interface ErrorEvent {
  readonly root?: string | undefined;
  readonly path?: string | undefined;
  /**
   * What failed; `"conflict"` is an `onMountConflict` hook that threw (its answer counts as `"accept"`);
   * `"watch"` is a refresh the mount's change feed (`LazyMount.watch`) asked for.
   */
  readonly op: "put" | "delete" | "fetch" | "index" | "dispose" | "conflict" | "watch";
  readonly error: unknown;
}

/** Event name → payload. */
export interface WorkspaceEvents {
  index: IndexEvent;
  fetch: FetchEvent;
  /** The content budget turned a clean hydrated file back into a stub. */
  evict: EvictEvent;
  put: WriteEvent;
  delete: WriteEvent;
  retry: RetryEvent;
  /** Never thrown: a workspace without an "error" listener keeps going (failures stay pending). */
  error: ErrorEvent;
  conflict: MountConflict;
  diagnostic: MountDiagnostic;
  /** Once per `exec` with `sandbox` other than `"none"`: what was used, and why not bwrap when it fell back. */
  sandbox: SandboxEvent;
}

export type WorkspaceEventName = keyof WorkspaceEvents;

/** Re-exported so callers can narrow errors. */
export type { MountError };
