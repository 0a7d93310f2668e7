import { type LazyMount, MountError, validateRelativePath } from "@ws/core";
import {
  codeOf,
  getOrUndefined,
  isPreconditionFailure,
  notSupported,
  putWithEtag,
  readWithEtag,
  sleep,
  toBytes,
} from "./inner-io.js";
import {
  type FileMeta,
  INLINE_ENTRY_BYTES,
  inlineData,
  type LogEntry,
  type LoggedOp,
  type SharedTree,
  within,
} from "./tree.js";
import type {
  CommitOp,
  CommitOptions,
  CommitResult,
  Engine,
  EngineContext,
  LockOptions,
  SharedLock,
  SharedStats,
} from "./types.js";

/** Everything the protocol stores lives under this folder of the bucket (hidden from the tree). */
export const META_DIR = ".ws";

export function logKey(seq: number): string {
  return `${META_DIR}/log/${String(seq).padStart(12, "0")}.json`;
}
const CHECKPOINT_LATEST = `${META_DIR}/checkpoints/latest.json`;
function checkpointKey(seq: number): string {
  return `${META_DIR}/checkpoints/${String(seq).padStart(12, "0")}.json`;
}
export function lockKey(name: string): string {
  return `${META_DIR}/locks/${name}.json`;
}

/** The stored lease of a lock (`.ws/locks/<name>.json`). */
export interface Lease {
  readonly owner: string | null;
  readonly generation: number;
  readonly expiresAt: number;
}

export interface BucketLogOptions {
  readonly pollMs: number;
  readonly reconcileMs: number;
  readonly externalGraceMs: number;
  readonly checkpointEvery: number;
}

const LOCK_NAME = /^[A-Za-z0-9._-]{1,128}$/;

export function checkLockName(name: string): void {
  if (typeof name !== "string" || !LOCK_NAME.test(name) || name === "." || name === "..") {
    throw new MountError("EINVAL", `lock name ${JSON.stringify(name)} must be 1-128 of A-Z a-z 0-9 . _ -`);
  }
}

export function checkUserPath(path: string): string {
  const rel = validateRelativePath(path);
  if (within(rel, META_DIR)) {
    throw new MountError("EACCES", `${rel}: ${META_DIR}/ holds the shared mount's log and locks`, {
      path: rel,
    });
  }
  return rel;
}

/** Runs the tasks `limit` at a time; the first failure rejects once the running ones settle. */
export async function runLimited(tasks: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (!failure && next < tasks.length) {
      const task = tasks[next++]!;
      try {
        await task();
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  if (failure) throw failure.error;
}

function decode<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (error) {
    throw new MountError("EIO", `${what} is not valid JSON: the shared log is damaged`, { cause: error });
  }
}

function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function conflict(path: string, detail: string, cause?: unknown): MountError {
  return new MountError(
    "ESTALE",
    `conflict on ${path}: ${detail}; nothing of this commit was published (read it again, then retry)`,
    { path, ...(cause === undefined ? {} : { cause }) },
  );
}

/** A lease held by this process, renewed with If-Match until released or lost. */
class BucketLock implements SharedLock {
  readonly name: string;
  readonly token: number;
  #lost = false;
  #expiresAt: number;
  #etag: string;
  #timer: NodeJS.Timeout | undefined;
  readonly #log: BucketLog;
  readonly #options: LockOptions;
  readonly #ttl: number;

  constructor(log: BucketLog, name: string, lease: Lease, etag: string, ttl: number, options: LockOptions) {
    this.#log = log;
    this.name = name;
    this.token = lease.generation;
    this.#expiresAt = lease.expiresAt;
    this.#etag = etag;
    this.#ttl = ttl;
    this.#options = options;
    if (options.renew !== false) {
      this.#timer = setInterval(() => void this.#renew(), Math.max(10, Math.floor(ttl / 3)));
      this.#timer.unref();
    }
  }

  get lost(): boolean {
    return this.#lost || Date.now() >= this.#expiresAt;
  }
  get expiresAt(): number {
    return this.#expiresAt;
  }

  #lose(error: Error): void {
    if (this.#lost) return;
    this.#lost = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#options.onLost?.(error);
  }

  async #renew(): Promise<void> {
    if (this.#lost) return;
    if (Date.now() >= this.#expiresAt) {
      this.#lose(new MountError("ESTALE", `lock ${this.name}: lease expired before it could be renewed`));
      return;
    }
    const lease: Lease = {
      owner: this.#log.writer,
      generation: this.token,
      expiresAt: Date.now() + this.#ttl,
    };
    try {
      this.#etag = await this.#log.putLease(this.name, lease, { ifMatch: this.#etag });
      this.#expiresAt = lease.expiresAt;
    } catch (error) {
      if (isPreconditionFailure(error)) {
        this.#lose(
          new MountError("ESTALE", `lock ${this.name}: taken over by another holder`, { cause: error }),
        );
      }
      // A transient failure: try again at the next tick while the lease still runs.
    }
  }

  async release(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#lost) return;
    this.#lost = true;
    // An expired lease rather than a delete: R2's binding has no conditional delete.
    try {
      await this.#log.putLease(
        this.name,
        { owner: null, generation: this.token, expiresAt: 0 },
        { ifMatch: this.#etag },
      );
    } catch (error) {
      if (!isPreconditionFailure(error)) throw error;
    }
  }
}

/** Tier 1: the bucket alone. See the README's "Protocol" section for the formats. */
export class BucketLog implements Engine {
  readonly tier = 1 as const;
  readonly #inner: LazyMount;
  readonly #stats: SharedStats;
  readonly #options: BucketLogOptions;
  readonly writer: string;
  #tree!: SharedTree;
  #changed: () => void = () => undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #lastReconcile = 0;
  #lastCheckpointCheck = 0;

  constructor(ctx: EngineContext, options: BucketLogOptions) {
    this.#inner = ctx.inner;
    this.#stats = ctx.stats;
    this.writer = ctx.writer;
    this.#options = options;
  }

  /** Runs `fn` after everything queued before it: tree changes and log reads never interleave. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async start(tree: SharedTree, changed: () => void): Promise<void> {
    this.#tree = tree;
    await this.#serial(async () => {
      await this.#loadCheckpoint();
      await this.#catchUp();
      if (this.#options.reconcileMs > 0) await this.#reconcile();
    });
    this.#changed = changed;
    this.#schedule();
  }

  /**
   * Polls start `pollMs` apart (fixed rate), not `pollMs` after the previous poll ended: the wait
   * for the next poll is then at most `pollMs`, whatever a request costs, and a poll that took
   * longer than the interval is followed by the next one at once.
   */
  #schedule(startedAt = performance.now()): void {
    if (this.#closed) return;
    const delay = Math.max(0, this.#options.pollMs - (performance.now() - startedAt));
    this.#timer = setTimeout(() => void this.#tick(), delay);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    const startedAt = performance.now();
    try {
      await this.#serial(async () => {
        await this.#catchUp();
        const { reconcileMs } = this.#options;
        if (reconcileMs > 0 && Date.now() - this.#lastReconcile >= reconcileMs) {
          if (await this.#reconcile()) this.#changed();
        }
      });
    } catch {
      // A failed poll (server down) is retried at the next tick; commits report their own errors.
    }
    this.#schedule(startedAt);
  }

  async #loadCheckpoint(): Promise<void> {
    const latest = await getOrUndefined(this.#inner, this.#stats, CHECKPOINT_LATEST);
    if (!latest) return;
    const { seq } = decode<{ seq: number }>(latest, CHECKPOINT_LATEST);
    if (!(seq > this.#tree.seq)) return;
    const bytes = await getOrUndefined(this.#inner, this.#stats, checkpointKey(seq));
    if (!bytes) return;
    this.#tree.load(decode(bytes, checkpointKey(seq)));
  }

  /**
   * Applies every entry after the tree's head; returns how many. The change feed fires after each
   * entry, before the request for the next one: a reader learns of an entry one request sooner, and
   * a watcher sees every state between entries (each one whole).
   */
  async #catchUp(): Promise<number> {
    let applied = 0;
    for (;;) {
      const seq = this.#tree.seq + 1;
      const bytes = await getOrUndefined(this.#inner, this.#stats, logKey(seq));
      if (!bytes) {
        if (applied === 0 && seq > 1 && this.#options.checkpointEvery > 0 && this.#checkpointDue()) {
          // Fell behind entries already dropped? A newer checkpoint says so.
          const before = this.#tree.seq;
          await this.#loadCheckpoint();
          if (this.#tree.seq !== before) {
            applied++;
            this.#changed();
            continue;
          }
        }
        return applied;
      }
      const entry = decode<LogEntry>(bytes, logKey(seq));
      if (entry.seq !== seq) throw new MountError("EIO", `${logKey(seq)} says it is entry ${entry.seq}`);
      if (this.#tree.apply(entry)) this.#stats.applied++;
      else this.#stats.fenced++;
      applied++;
      this.#changed();
    }
  }

  /**
   * Whether an idle poll should also read the latest checkpoint (has this reader fallen behind
   * entries already dropped?): at most once per reconciling interval, or every 10 s without one,
   * so an idle poll costs one GET, not two.
   */
  #checkpointDue(): boolean {
    const every = this.#options.reconcileMs > 0 ? this.#options.reconcileMs : 10_000;
    if (Date.now() - this.#lastCheckpointCheck < every) return false;
    this.#lastCheckpointCheck = Date.now();
    return true;
  }

  /** Picks up other tools' writes: a full listing compared with the tree, older than the grace period. */
  async #reconcile(): Promise<boolean> {
    this.#lastReconcile = Date.now();
    this.#stats.lists++;
    const listed = await (this.#inner.refresh ? this.#inner.refresh() : this.#inner.list());
    const cutoff = Date.now() - this.#options.externalGraceMs;
    const seen = new Set<string>();
    let changed = false;
    for (const entry of listed) {
      if (within(entry.path, META_DIR)) continue;
      seen.add(entry.path);
      const known = this.#tree.files.get(entry.path);
      const old = (entry.mtime ?? 0) <= cutoff;
      if (!old) continue;
      if (!known || (known.key === entry.path && entry.etag && known.etag && entry.etag !== known.etag)) {
        this.#tree.files.set(entry.path, {
          size: entry.size,
          mtime: entry.mtime ?? Date.now(),
          etag: entry.etag,
          key: entry.path,
        });
        changed = true;
      }
    }
    for (const [path, meta] of this.#tree.files) {
      if (meta.key === path && !seen.has(path) && meta.mtime <= cutoff) {
        this.#tree.files.delete(path);
        changed = true;
      }
    }
    return changed;
  }

  fetch(path: string): Promise<Uint8Array> {
    this.#stats.gets++;
    return this.#inner.fetch(path);
  }

  async putLease(
    name: string,
    lease: Lease,
    condition: { ifMatch?: string; ifNoneMatch?: "*" },
  ): Promise<string> {
    try {
      return await putWithEtag(this.#inner, this.#stats, lockKey(name), encode(lease), condition);
    } catch (error) {
      throw notSupported(error, `lock ${name}`);
    }
  }

  commit(ops: readonly CommitOp[], options: CommitOptions): Promise<CommitResult> {
    const fence = options.lock ? { lock: options.lock.name, token: options.lock.token } : undefined;
    return this.#serial(() => this.#commit(ops, fence, options.lock));
  }

  async #commit(
    ops: readonly CommitOp[],
    fence: LogEntry["fence"],
    lock: SharedLock | undefined,
  ): Promise<CommitResult> {
    const tree = this.#tree;
    await this.#catchUp();
    const checkFence = (): void => {
      if (!fence) return;
      if (!tree.fenceOk(fence)) {
        throw new MountError(
          "ESTALE",
          `lock ${fence.lock}: token ${fence.token} was superseded by token ${tree.fences.get(fence.lock)} ` +
            "(the lease ran out and another holder took it); this write was rejected",
        );
      }
      if (lock?.lost) {
        throw new MountError(
          "ESTALE",
          `lock ${fence.lock}: the lease with token ${fence.token} expired or was lost; this write was rejected`,
        );
      }
    };
    checkFence();
    // Every version this commit is based on: a change to any of them before our entry lands is a conflict.
    const bases = new Map<string, FileMeta | undefined>();
    // The paths under each folder this commit renames or deletes, as they were when it was planned.
    const spans = new Map<string, Set<string>>();
    const logged: LoggedOp[] = [];
    const afterDeletes: string[] = [];
    const baseOf = (path: string): FileMeta | undefined => {
      if (!bases.has(path)) bases.set(path, tree.files.get(path));
      return bases.get(path);
    };
    // Validate before any byte is uploaded. Every op is planned against the tree as it was before
    // the commit, so no two ops may touch the same path (or one a folder holding the other's path).
    const putPaths = new Set<string>();
    const spanPaths: string[] = [];
    const twice = (path: string): MountError =>
      new MountError(
        "EINVAL",
        `commit: ${path} is touched by two ops of one commit; on the bucket alone (tier 1) split them into two commits`,
        { path },
      );
    for (const op of ops) {
      const paths = op.op === "rename" ? [op.from, op.to] : [op.path];
      for (const path of paths) {
        if (putPaths.has(path) || spanPaths.some((dir) => within(path, dir) || within(dir, path))) {
          throw twice(path);
        }
        if (op.op !== "put") for (const put of putPaths) if (within(put, path)) throw twice(path);
      }
      if (op.op === "put") putPaths.add(op.path);
      else spanPaths.push(...paths);
    }
    for (const op of ops) {
      if (op.op === "put") {
        const base = baseOf(op.path);
        if (op.ifNoneMatch === "*" && base) throw conflict(op.path, 'it exists (ifNoneMatch: "*")');
        if (op.ifMatch !== undefined && base?.etag !== op.ifMatch) {
          throw conflict(op.path, `it is at version ${base?.etag ?? "(none)"}, not ${op.ifMatch}`);
        }
      } else if (op.op === "rename") {
        if (tree.under(op.from).length === 0) {
          throw new MountError("ENOENT", `rename ${op.from}: no such file or directory`, { path: op.from });
        }
        if (within(op.to, op.from))
          throw new MountError("EINVAL", `rename ${op.from} into itself`, { path: op.to });
      }
    }
    // Uploads run 8 at a time; every op's slot in the entry is fixed first so the order is the caller's.
    const uploads: Array<() => Promise<void>> = [];
    const inlineBudget = { left: INLINE_ENTRY_BYTES };
    for (const op of ops) {
      if (op.op === "put") {
        const base = baseOf(op.path);
        const bytes = toBytes(op.bytes);
        const slot = logged.length;
        const data = inlineData(bytes, inlineBudget);
        logged.push({
          op: "put",
          path: op.path,
          size: bytes.length,
          mtime: Date.now(),
          ...(data === undefined ? {} : { data }),
        });
        uploads.push(async () => {
          const etag = await this.#upload(op.path, bytes, base);
          logged[slot] = { ...(logged[slot] as LoggedOp & { op: "put" }), etag };
        });
      } else if (op.op === "delete") {
        spans.set(op.path, new Set(tree.under(op.path)));
        for (const path of tree.under(op.path)) {
          baseOf(path);
          afterDeletes.push(path);
        }
        logged.push({ op: "delete", path: op.path });
      } else {
        const etags: Record<string, string> = {};
        spans.set(op.from, new Set(tree.under(op.from)));
        spans.set(op.to, new Set(tree.under(op.to)));
        for (const from of tree.under(op.from)) {
          baseOf(from);
          const to = op.to + from.slice(op.from.length);
          const toBase = baseOf(to);
          const key = tree.files.get(from)!.key;
          // A small file's bytes came with its entry (this exact version): no GET to copy it.
          const cached = tree.cached(from);
          uploads.push(async () => {
            let bytes = cached;
            if (!bytes) {
              this.#stats.gets++;
              bytes = await this.#inner.fetch(key);
            }
            etags[to] = await this.#upload(to, bytes, toBase);
          });
          afterDeletes.push(from);
        }
        const targets = new Set(tree.under(op.from).map((from) => op.to + from.slice(op.from.length)));
        for (const path of tree.under(op.to)) {
          baseOf(path);
          if (!targets.has(path)) afterDeletes.push(path);
        }
        logged.push({ op: "rename", from: op.from, to: op.to, etags });
      }
    }
    try {
      await runLimited(uploads, 8);
    } catch (error) {
      throw notSupported(error, "commit");
    }
    // Append the entry: a lost race for the slot re-reads the head, checks again, and retries.
    for (;;) {
      checkFence();
      const entry: LogEntry = {
        v: 1,
        seq: tree.seq + 1,
        writer: this.writer,
        time: Date.now(),
        ...(fence ? { fence } : {}),
        ops: logged,
      };
      try {
        await putWithEtag(this.#inner, this.#stats, logKey(entry.seq), encode(entry), { ifNoneMatch: "*" });
      } catch (error) {
        if (codeOf(error) !== "EEXIST" && codeOf(error) !== "ESTALE") throw notSupported(error, "commit");
        this.#stats.retries++;
        await this.#catchUp();
        for (const [path, base] of bases) {
          const now = tree.files.get(path);
          if (now?.etag !== base?.etag || (now === undefined) !== (base === undefined)) {
            throw conflict(path, "another process committed a change to it first");
          }
        }
        // A folder being renamed or deleted that gained a file meanwhile: its bytes were not copied.
        for (const [dir, paths] of spans) {
          const nowUnder = tree.under(dir);
          if (nowUnder.length !== paths.size || nowUnder.some((p) => !paths.has(p))) {
            throw conflict(dir, "another process changed what is in it first");
          }
        }
        continue;
      }
      tree.apply(entry);
      this.#stats.applied++;
      this.#changed();
      // The entry is the publish; the old keys go now (a crash here leaves keys the reconciling list adopts).
      const renamedTo = new Set(
        logged.flatMap((op) => (op.op === "rename" ? Object.keys(op.etags ?? {}) : [])),
      );
      await runLimited(
        afterDeletes
          .filter((path) => !renamedTo.has(path) && !tree.files.has(path))
          .map((path) => async () => {
            this.#stats.deletes++;
            await this.#inner.delete?.(path).catch(() => undefined);
          }),
        8,
      );
      if (this.#options.checkpointEvery > 0 && entry.seq % this.#options.checkpointEvery === 0) {
        await this.#checkpoint().catch(() => undefined);
      }
      return { seq: entry.seq };
    }
  }

  /** Uploads one file's bytes to its key, conditional on the version the commit is based on. */
  async #upload(path: string, bytes: Uint8Array, base: FileMeta | undefined): Promise<string> {
    const condition = base ? (base.etag ? { ifMatch: base.etag } : {}) : { ifNoneMatch: "*" as const };
    try {
      return await putWithEtag(this.#inner, this.#stats, path, bytes, condition);
    } catch (error) {
      if (isPreconditionFailure(error)) {
        throw conflict(path, "another process (or tool) wrote it since this process last saw it", error);
      }
      throw error;
    }
  }

  async #checkpoint(): Promise<void> {
    const seq = this.#tree.seq;
    await putWithEtag(this.#inner, this.#stats, checkpointKey(seq), encode(this.#tree.toJSON()));
    await putWithEtag(this.#inner, this.#stats, CHECKPOINT_LATEST, encode({ seq }));
    // Keep one interval of entries behind the checkpoint for readers that lag.
    const drop = seq - this.#options.checkpointEvery;
    for (let s = drop; s > drop - this.#options.checkpointEvery && s > 0; s--) {
      this.#stats.deletes++;
      await this.#inner.delete?.(logKey(s)).catch(() => undefined);
    }
  }

  async lock(name: string, options: LockOptions): Promise<SharedLock> {
    checkLockName(name);
    const ttl = options.ttlMs ?? 30_000;
    if (!(ttl >= 100)) throw new MountError("EINVAL", `lock ${name}: ttlMs must be at least 100, got ${ttl}`);
    const deadline = Date.now() + (options.waitMs ?? 30_000);
    for (;;) {
      const current = await readWithEtag(this.#inner, this.#stats, lockKey(name));
      const lease = current ? decode<Lease>(current.bytes, lockKey(name)) : undefined;
      if (lease && lease.expiresAt > Date.now()) {
        if (Date.now() >= deadline) {
          throw new MountError(
            "EBUSY",
            `lock ${name} is held by ${lease.owner ?? "?"} until ${new Date(lease.expiresAt).toISOString()}`,
          );
        }
        await sleep(Math.min(50 + Math.random() * 100, Math.max(1, deadline - Date.now())));
        continue;
      }
      const next: Lease = {
        owner: this.writer,
        generation: (lease?.generation ?? 0) + 1,
        expiresAt: Date.now() + ttl,
      };
      let etag: string;
      try {
        etag = await this.putLease(name, next, current ? { ifMatch: current.etag } : { ifNoneMatch: "*" });
      } catch (error) {
        if (isPreconditionFailure(error)) continue;
        throw error;
      }
      const held = new BucketLock(this, name, next, etag, ttl, options);
      // The acquisition is a log entry too: from it on, every entry fenced with an older token is void.
      try {
        await this.#serial(() => this.#commit([], { lock: name, token: next.generation }, undefined));
      } catch (error) {
        await held.release().catch(() => undefined);
        throw error;
      }
      return held;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#queue;
  }
}

export type { LazyMount };
