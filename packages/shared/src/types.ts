import type { LazyMount, MountOptions } from "@ws/core";
import type { SharedTree } from "./tree.js";

/** One operation of `commit(ops)`. Paths are relative to the mount root. */
export type CommitOp =
  | {
      readonly op: "put";
      readonly path: string;
      readonly bytes: Uint8Array | string;
      /** Write only if the file is still at this version (its etag); otherwise the commit fails `ESTALE`. */
      readonly ifMatch?: string | undefined;
      /** `"*"`: write only if the file does not exist; otherwise the commit fails `EEXIST`. */
      readonly ifNoneMatch?: "*" | undefined;
    }
  /** Deletes a file, or a directory with everything under it. */
  | { readonly op: "delete"; readonly path: string }
  /** Renames a file or a directory (everything under it); an existing target is replaced. */
  | { readonly op: "rename"; readonly from: string; readonly to: string };

export interface CommitOptions {
  /** A lock this commit is protected by: rejected (`ESTALE`) once a later holder took the lock. */
  readonly lock?: SharedLock | undefined;
}

export interface CommitResult {
  /** The entry's number in the change log. */
  readonly seq: number;
}

export interface LockOptions {
  /** How long the lease lasts without renewal, in milliseconds. Default 30 000. */
  readonly ttlMs?: number | undefined;
  /** How long `lock()` waits for a held lock before failing `EBUSY`. Default 30 000; 0 tries once. */
  readonly waitMs?: number | undefined;
  /** Renew the lease every `ttlMs / 3` while held. Default true. */
  readonly renew?: boolean | undefined;
  /** Called once if the lease was lost (a renewal found another holder or the lease expired). */
  readonly onLost?: ((error: Error) => void) | undefined;
}

/** A held lock. `token` is the fencing token: it only grows, from one holder to the next. */
export interface SharedLock {
  readonly name: string;
  readonly token: number;
  /** True once the lease was lost or released: commits with this lock then fail `ESTALE`. */
  readonly lost: boolean;
  /** Wall-clock time (ms) the lease runs out unless renewed. */
  readonly expiresAt: number;
  release(): Promise<void>;
}

/** Request counts, for the cost figures in the README and the benchmark. */
export interface SharedStats {
  gets: number;
  puts: number;
  lists: number;
  deletes: number;
  queries: number;
  /** Log entries applied (own and others'). */
  applied: number;
  /** Reads served from bytes that came with their change (small files), without a request. */
  inlineReads: number;
  /** Log entries that were void because their fence token was superseded. */
  fenced: number;
  /** Commits that lost the race for a log slot and retried. */
  retries: number;
}

export interface SharedMountOptions extends MountOptions {
  /** How often a tier-1 reader polls for the next log entry, in ms. Default 1000. */
  readonly pollMs?: number | undefined;
  /** How often a full listing picks up other tools' writes, in ms (0: never). Default 60 000. */
  readonly reconcileMs?: number | undefined;
  /**
   * Keys younger than this are left alone by the reconciling list (a ws writer may be between its
   * upload and its log entry). Default 30 000.
   */
  readonly externalGraceMs?: number | undefined;
  /** Write a checkpoint (and drop older entries) every this many log entries. Default 1000. */
  readonly checkpointEvery?: number | undefined;
  /** A name for this writer in log entries and locks. Default `host:pid:random`. */
  readonly writer?: string | undefined;
  /** Tier 2: keep the tree in PostgreSQL (see `PostgresMetadata`). Without it, tier 1 (bucket alone). */
  readonly metadata?: MetadataEngineFactory | undefined;
}

/** @internal What a tier implements. */
export interface Engine {
  readonly tier: 1 | 2;
  start(tree: SharedTree, changed: () => void): Promise<void>;
  commit(ops: readonly CommitOp[], options: CommitOptions): Promise<CommitResult>;
  lock(name: string, options: LockOptions): Promise<SharedLock>;
  fetch(path: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** @internal */
export interface EngineContext {
  readonly inner: LazyMount;
  readonly writer: string;
  readonly stats: SharedStats;
  readonly tree: SharedTree;
}

/** Creates a tier-2 metadata engine for one shared mount. */
export type MetadataEngineFactory = (ctx: EngineContext) => Engine;
