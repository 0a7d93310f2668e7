import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  type LazyMount,
  type MountEntry,
  MountError,
  type MountOptions,
  type PutOptions,
  type PutResult,
  pickMountOptions,
} from "@ws/core";
import { BucketLog, checkUserPath } from "./bucket-log.js";
import { SharedTree } from "./tree.js";
import type {
  CommitOp,
  CommitOptions,
  CommitResult,
  Engine,
  LockOptions,
  SharedLock,
  SharedMountOptions,
  SharedStats,
} from "./types.js";

/** The mount `SharedMount` returns: a lazy mount plus commits, locks and the change feed. */
export interface SharedMountInstance extends LazyMount {
  readonly kind: string;
  /** 1: the bucket alone; 2: a metadata engine (PostgreSQL). */
  readonly tier: 1 | 2;
  /** The number of the last log entry applied here. */
  readonly seq: number;
  readonly stats: SharedStats;
  /** Loads the tree (checkpoint, then the log) and starts following the feed. Called by `list()`. */
  ready(): Promise<void>;
  /** Several puts, deletes and renames applied all-or-nothing, as one log entry / one transaction. */
  commit(ops: readonly CommitOp[], options?: CommitOptions): Promise<CommitResult>;
  /** One rename (file or directory) as one entry: the atomic publish of a hidden file or folder. */
  rename(from: string, to: string, options?: CommitOptions): Promise<CommitResult>;
  /** A lease lock shared by every process on this mount; `token` is the fencing token. */
  lock(name: string, options?: LockOptions): Promise<SharedLock>;
  /** The tree as this process knows it now (no I/O). */
  entries(): MountEntry[];
  /** The etag (version) of one file as this process knows it, for `ifMatch`. */
  versionOf(path: string): string | undefined;
  put(relPath: string, bytes: Uint8Array, options?: PutOptions): Promise<PutResult>;
  delete(relPath: string): Promise<void>;
  dispose(): Promise<void>;
}

function positive(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min) {
    throw new MountError("EINVAL", `${name} must be a number >= ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * Wraps a read-write lazy mount whose backend has conditional writes (S3Bucket, R2Bucket) so that
 * several processes or machines share it: a change log in the bucket (tier 1) or a PostgreSQL
 * metadata engine (tier 2, `metadata: PostgresMetadata(...)`). The result is itself a mount.
 */
export function SharedMount(mount: LazyMount, options: SharedMountOptions = {}): SharedMountInstance {
  if (!mount || typeof mount.list !== "function" || typeof mount.fetch !== "function") {
    throw new MountError(
      "EINVAL",
      "SharedMount wraps a lazy mount (list and fetch), such as S3Bucket or R2Bucket",
    );
  }
  const writable = options.mode === undefined ? mount.writable : options.mode === "read-write";
  if (writable && !mount.writable) {
    throw new MountError(
      "EINVAL",
      `SharedMount with mode "read-write" needs a read-write ${mount.kind} mount (pass mode: "read-write" to it too)`,
    );
  }
  const stats: SharedStats = {
    gets: 0,
    puts: 0,
    lists: 0,
    deletes: 0,
    queries: 0,
    applied: 0,
    inlineReads: 0,
    fenced: 0,
    retries: 0,
  };
  const writer = options.writer ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const tree = new SharedTree();
  const ctx = { inner: mount, writer, stats, tree };
  const engine: Engine = options.metadata
    ? options.metadata(ctx)
    : new BucketLog(ctx, {
        pollMs: positive("pollMs", options.pollMs, 1000, 1),
        reconcileMs: positive("reconcileMs", options.reconcileMs, 60_000),
        externalGraceMs: positive("externalGraceMs", options.externalGraceMs, 30_000),
        checkpointEvery: positive("checkpointEvery", options.checkpointEvery, 1000),
      });
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const listener of listeners) listener();
  };
  let starting: Promise<void> | undefined;
  let disposed = false;
  const ready = (): Promise<void> => {
    if (disposed) return Promise.reject(new MountError("EIO", "the shared mount was disposed"));
    starting ??= engine.start(tree, changed).catch((error: unknown) => {
      starting = undefined;
      throw error;
    });
    return starting;
  };
  const writeCheck = (what: string): void => {
    if (!writable) {
      throw new MountError(
        "EROFS",
        `${what}: this shared mount is read-only (pass mode: "read-write" to write)`,
      );
    }
  };
  const commit = async (
    ops: readonly CommitOp[],
    commitOptions: CommitOptions = {},
  ): Promise<CommitResult> => {
    writeCheck("commit");
    if (!Array.isArray(ops)) throw new MountError("EINVAL", "commit(ops): ops must be an array");
    for (const op of ops) {
      if (op.op === "put") checkUserPath(op.path);
      else if (op.op === "delete") checkUserPath(op.path);
      else if (op.op === "rename") {
        checkUserPath(op.from);
        checkUserPath(op.to);
      } else
        throw new MountError("EINVAL", `commit: unknown op ${JSON.stringify((op as { op: unknown }).op)}`);
    }
    await ready();
    return engine.commit(ops, commitOptions);
  };
  const common = pickMountOptions(options as MountOptions);
  const instance: SharedMountInstance = {
    kind: `shared-${mount.kind}`,
    strategy: "lazy",
    writable,
    options: { ...common, mode: writable ? "read-write" : "read-only" },
    get tier() {
      return engine.tier;
    },
    get seq() {
      return tree.seq;
    },
    stats,
    ready,
    async list() {
      await ready();
      return tree.entries();
    },
    async refresh() {
      await ready();
      return tree.entries();
    },
    async fetch(relPath: string) {
      await ready();
      const meta = tree.files.get(relPath);
      if (!meta)
        throw new MountError("ENOENT", `${relPath}: no such file in the shared tree`, { path: relPath });
      // A small file's bytes came with its change: no request (a copy: the caller may keep it).
      const cached = tree.cached(relPath);
      if (cached) {
        stats.inlineReads++;
        return cached.slice();
      }
      return engine.fetch(relPath);
    },
    watch(onChange: () => void) {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    commit,
    rename: (from, to, commitOptions) => commit([{ op: "rename", from, to }], commitOptions),
    async lock(name, lockOptions = {}) {
      writeCheck(`lock ${name}`);
      await ready();
      return engine.lock(name, lockOptions);
    },
    entries: () => tree.entries(),
    versionOf: (path) => tree.files.get(path)?.etag,
    async put(relPath, bytes, putOptions = {}) {
      await commit([
        {
          op: "put",
          path: relPath,
          bytes,
          ...(putOptions.ifMatch !== undefined ? { ifMatch: putOptions.ifMatch } : {}),
          ...(putOptions.ifNoneMatch !== undefined ? { ifNoneMatch: putOptions.ifNoneMatch } : {}),
        },
      ]);
      return { etag: tree.files.get(relPath)?.etag };
    },
    async delete(relPath) {
      await ready();
      if (tree.files.has(relPath)) await commit([{ op: "delete", path: relPath }]);
    },
    async dispose() {
      disposed = true;
      listeners.clear();
      await engine.close();
      await mount.dispose?.();
    },
  };
  return instance;
}
