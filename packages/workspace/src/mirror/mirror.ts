import { MountError, type PutOptions, type PutSource, readOnly } from "@ws/core";
import type { WorkspaceContext } from "../runtime/context.js";
import type { MountRecord } from "../runtime/registry.js";
import type { ConflictSide } from "../workspace-options.js";
import type { Journal } from "./journal.js";

/** The final local state of a path, read when a write fires (not when it was scheduled). */
export type LocalState =
  | {
      readonly exists: true;
      /** Empty for a directory; a link's target in UTF-8 for a symlink. */
      readonly bytes: Uint8Array;
      readonly mode?: number | undefined;
      readonly mtime?: number | undefined;
      /** A symbolic link with this target (stored verbatim by mounts with `symlinks: true`). */
      readonly symlink?: string | undefined;
      /** A folder (kept by mounts with `mkdir`, as a directory marker). */
      readonly directory?: boolean | undefined;
      /**
       * The file's bytes, read part by part (`bytes` is then empty): a large file a command left in
       * the exec directory, sent with the mount's `putStream` (see `Mirror.syncFrom`).
       */
      readonly source?: PutSource | undefined;
    }
  | { readonly exists: false };

/** What the mirror needs from the VFS side: the local state of a path, and its workspace path. */
export interface MirrorLocal {
  /** Absent only when nothing is there (ENOENT, ENOTDIR); throws when the VFS cannot say. */
  read(relPath: string): LocalState;
  absOf(relPath: string): string;
  side(absPath: string): ConflictSide;
  /** The etag of the indexed (base) version of `relPath`, when the listing gave one. */
  baseEtag(relPath: string): string | undefined;
  /** Upstream's version replaces the local one (a lost write conflict the local side gave way in). */
  replace(relPath: string, bytes: Uint8Array | undefined): void;
}

/** What a refresh needs to know about writes acknowledged while its listing was taken. */
export interface ListingToken {
  readonly epoch: number;
  readonly inflight: ReadonlySet<string>;
}

/** The outcome of one sync of one path. */
export interface SyncOutcome {
  readonly relPath: string;
  readonly op: "put" | "delete";
  readonly ok: boolean;
  readonly error?: unknown;
}

interface Pending {
  /** The debounce timer, or the background requeue timer after a failure. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Its debounce ran out and it is a delete: it waits (a moment) to go out in one batch with others. */
  due?: boolean;
}

// Errors that no retry can fix: the provider refused the write for a reason that will not change.
// Such a write waits for the next flush instead of being requeued in the background.
const PERMANENT = new Set(["EROFS", "EINVAL", "EDQUOT", "ENOTSUP", "EISDIR", "ENOTDIR", "EACCES", "EPERM"]);

function requeueable(error: unknown): boolean {
  return !(MountError.isInstance(error) && PERMANENT.has(error.code));
}

/** Keys per `deleteMany` call: S3's DeleteObjects limit, so each call is one request there. */
const DELETE_BATCH = 1000;

/** Background requeue of writes whose retries ran out: first after 0.5–1 s, doubling, capped at a minute. */
const REQUEUE_BASE_MS = 1000;
const REQUEUE_MAX_MS = 60_000;

function requeueDelay(round: number): number {
  const ceiling = Math.min(REQUEUE_MAX_MS, REQUEUE_BASE_MS * 2 ** Math.min(round, 30));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * One mount's mirror: what upstream knows of each path, and the write-back that tells it about
 * local changes, in one object.
 *
 * Knowledge: `modified` (the VFS differs from the indexed "base" version), `acked` (last put by
 * this workspace, with its size: upstream of that size is ours), `localOnly` (changed by exec
 * under a read-only mount: never mirrored), and `dirty` (the index store is behind).
 *
 * Write-back, per the seed's table: the VFS was written first; this decides when the provider
 * hears about it. A path is held for `writeBackMs` after its last mutation and only its final
 * state is mirrored (`"manual"` holds it until `flush()`); syncs of one path run one after the
 * other; a delete waits for the mount's puts in flight (a rename lands as put-new, delete-old).
 * Each sync is one call on the layered mount: transient failures are retried by the retry layer
 * (with the workspace's `retry` options), not here. When a call still fails the path stays
 * pending and is reported (conflict, `flushMounts` and `close` reject naming it); unless the
 * provider refused it for good (`EROFS`, `EACCES`...), it is requeued in the background with
 * capped back-off until it lands or the workspace closes. Nothing is dropped silently.
 */
export class Mirror {
  readonly #record: MountRecord;
  readonly #ctx: WorkspaceContext;
  readonly #local: MirrorLocal;
  readonly #modified = new Set<string>();
  /** Our last acknowledged put per path: its size and the etag the provider returned. */
  readonly #acked = new Map<string, { readonly size: number; readonly etag: string | undefined }>();
  /**
   * The upstream version a pending write is based on, pinned when the path was first changed
   * (or as our last put/delete left it): a string etag, or null when unknown (no `ifMatch`).
   */
  readonly #known = new Map<string, string | null>();
  /** Ack epoch per path (refresh: a listing older than an ack is not applied to that path). */
  readonly #ackedAt = new Map<string, number>();
  #epoch = 0;
  /** What this workspace last got acknowledged at each path. */
  readonly #lastAck = new Map<string, "put" | "delete">();
  /** Journal sequence of each path's latest recorded local state. */
  readonly #seq = new Map<string, number>();
  /** The provider refused a conditional write with ENOTSUP: send none to it again. */
  #noConditional = false;
  readonly #localOnly = new Set<string>();
  #dirty = false;
  readonly #pending = new Map<string, Pending>();
  readonly #chains = new Map<string, Promise<SyncOutcome>>();
  readonly #puts = new Set<Promise<SyncOutcome>>();
  /** Failed syncs in a row per path (the requeue back-off). */
  readonly #rounds = new Map<string, number>();
  #stopped = false;
  /** Folders upstream keeps (listed markers, and folders this workspace made): absent → `rmdir`. */
  readonly #dirs = new Set<string>();

  readonly #journal: Journal | undefined;

  constructor(record: MountRecord, ctx: WorkspaceContext, local: MirrorLocal, journal?: Journal) {
    this.#record = record;
    this.#ctx = ctx;
    this.#local = local;
    this.#journal = journal;
  }

  get root(): string {
    return this.#record.root;
  }

  /** Writes go back to the provider (else: read-only, changes stay local). */
  get writable(): boolean {
    return this.#record.writable;
  }

  // ------------------------------------------------------------ what upstream knows

  /** A local change of `rel` by `ws.fs`: remembered and scheduled for write-back. */
  changed(rel: string): void {
    this.#modified.add(rel);
    if (this.writable) {
      this.#pin(rel);
      this.#record_(rel);
      this.schedule(rel);
    }
  }

  /** A local change of `rel` by exec: remembered; local only under a read-only mount (the caller mirrors). */
  changedExternally(rel: string): void {
    this.#modified.add(rel);
    if (!this.writable) this.#localOnly.add(rel);
    else {
      this.#pin(rel);
      this.#record_(rel);
    }
  }

  /** A replayed journal record: the write is based on `etag` (when known), not on today's listing. */
  replayed(rel: string, etag: string | undefined): void {
    this.#known.set(rel, etag ?? null);
    this.changed(rel);
  }

  /** Pins the upstream version a write of `rel` is based on, the first time it changes. */
  #pin(rel: string): void {
    if (!this.#known.has(rel)) this.#known.set(rel, this.#local.baseEtag(rel) ?? null);
  }

  /** Writes the latest local state of `rel` to the journal before the call resolves. */
  #record_(rel: string): void {
    const journal = this.#journal;
    if (!journal) return;
    let state: LocalState;
    try {
      state = this.#local.read(rel);
    } catch {
      return; // Not readable now (EACCES): the sync will fail and report it; nothing to record.
    }
    const known = this.#known.get(rel);
    this.#seq.set(
      rel,
      journal.record(this.root, rel, state.exists ? state.bytes : undefined, known ?? undefined),
    );
  }

  /** A token taken just before a listing starts (see `ackedSince`). */
  listingStarted(): ListingToken {
    return { epoch: this.#epoch, inflight: new Set(this.#chains.keys()) };
  }

  /** `rel` was acknowledged (or being written) after the listing behind `token` started: that listing is older. */
  ackedSince(token: ListingToken, rel: string): boolean {
    return (this.#ackedAt.get(rel) ?? -1) > token.epoch || token.inflight.has(rel) || this.#chains.has(rel);
  }

  isModified(rel: string): boolean {
    return this.#modified.has(rel);
  }
  isLocalOnly(rel: string): boolean {
    return this.#localOnly.has(rel);
  }
  isAcked(rel: string): boolean {
    return this.#acked.has(rel);
  }
  /** What this workspace last got acknowledged at `rel`: a put, a delete, or nothing yet. */
  lastAck(rel: string): "put" | "delete" | undefined {
    return this.#lastAck.get(rel);
  }

  /** What this workspace last put at `rel` (size and etag), or undefined. */
  ackedVersion(rel: string): { readonly size: number; readonly etag: string | undefined } | undefined {
    return this.#acked.get(rel);
  }

  /** Upstream is known to hold what the VFS holds (the base, unmodified, or our acknowledged put). */
  upstreamKnown(rel: string, hasBase: boolean): boolean {
    return (hasBase && !this.#modified.has(rel)) || this.#acked.has(rel);
  }

  /** Upstream's version replaced the local one: forget what was known of it. */
  forget(rel: string): void {
    this.#modified.delete(rel);
    this.#acked.delete(rel);
    if (!this.has(rel)) this.#known.delete(rel);
  }

  /** After a refresh: everything not pending and not local-only now matches the new base. */
  settle(): void {
    for (const rel of [...this.#modified]) {
      if (!this.has(rel) && !this.#localOnly.has(rel)) this.#modified.delete(rel);
    }
  }

  /** Upstream keeps `rel` as a folder (a listed directory marker). */
  knownDirectory(rel: string): void {
    this.#dirs.add(rel);
  }

  /** Upstream keeps `rel` as a folder (a listed marker, or one this workspace made). */
  hasFolder(rel: string): boolean {
    return this.#dirs.has(rel);
  }

  /** Folders upstream is known to keep (listed markers, and folders this workspace made). */
  keptDirectories(): string[] {
    return [...this.#dirs];
  }

  /** Upstream no longer keeps `rel` as a folder (its marker is gone). */
  forgetDirectory(rel: string): void {
    this.#dirs.delete(rel);
  }

  /** True when the mount keeps empty folders (it has `mkdir`): folder changes are worth scheduling. */
  get keepsFolders(): boolean {
    return typeof this.#record.mount?.mkdir === "function";
  }

  /** The index store is behind (acknowledged writes since the last save). */
  get dirty(): boolean {
    return this.#dirty;
  }
  saved(): void {
    this.#dirty = false;
  }

  // ------------------------------------------------------------ write-back

  /** True when `relPath` has a local change the provider has not acknowledged. */
  has(relPath: string): boolean {
    return this.#pending.has(relPath) || this.#chains.has(relPath);
  }

  /** Records a local mutation of `relPath`. */
  schedule(relPath: string): void {
    const existing = this.#pending.get(relPath);
    if (existing) {
      if (existing.timer !== undefined) clearTimeout(existing.timer);
      this.#pending.delete(relPath);
      this.#ctx.stats.coalescedWrites++;
    }
    this.#rounds.delete(relPath);
    const entry: Pending = { timer: undefined };
    if (this.#record.options.writeBack === "debounce") {
      entry.timer = setTimeout(() => {
        if (this.#pending.get(relPath) !== entry) return;
        if (this.#batchable(relPath)) {
          // `rm -r` of a folder: its deletes come due together and leave as one batch (still pending
          // until then, so a flush in between takes them).
          entry.timer = undefined;
          entry.due = true;
          this.#drainSoon();
          return;
        }
        this.#pending.delete(relPath);
        void this.#run(relPath);
      }, this.#record.options.writeBackMs);
    }
    // Re-inserted at the end, so flush order follows the order of last mutation.
    this.#pending.set(relPath, entry);
  }

  /** Drops a pending (not yet started) sync: another state superseded it. */
  cancel(relPath: string): void {
    const entry = this.#pending.get(relPath);
    if (!entry) return;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    this.#pending.delete(relPath);
  }

  /** Syncs `relPath` now (skipping its debounce) and resolves with the outcome. */
  syncNow(relPath: string): Promise<SyncOutcome> {
    this.cancel(relPath);
    return this.#run(relPath);
  }

  /** True when the mount takes files part by part (`putStream`): large exec files are streamed to it. */
  get streams(): boolean {
    return this.writable && typeof this.#record.mount?.putStream === "function";
  }

  /**
   * Writes `state` (a file read from `state.source`, not from the VFS) to `relPath` now, after
   * any sync of it in flight, with the precondition the VFS's version calls for. The VFS is not
   * read and not changed: the caller makes it agree once this lands (`streamed`). A version
   * conflict asks the hook; unless it keeps this side, the write is reported as failed and the
   * VFS keeps its version (a refresh brings upstream's), since upstream's bytes may be too large
   * to hold.
   */
  syncFrom(relPath: string, state: LocalState & { readonly exists: true }): Promise<SyncOutcome> {
    this.cancel(relPath);
    this.#pin(relPath);
    const outcome = this.#run(relPath, state);
    // A failed attempt must not be requeued: a requeue reads the VFS, which does not hold this file.
    return outcome.then((o) => {
      if (!o.ok) this.cancel(relPath);
      return o;
    });
  }

  /** The file `syncFrom` wrote is now the VFS's base version (a stub with its etag): nothing is pending. */
  streamed(relPath: string): void {
    this.#modified.delete(relPath);
    this.#localOnly.delete(relPath);
  }

  /** True when `rel` can go out in a `deleteMany` batch: absent locally, not a kept folder, nothing in flight. */
  #batchable(rel: string): boolean {
    if (typeof this.#record.mount?.deleteMany !== "function" || this.#dirs.has(rel) || this.#chains.has(rel))
      return false;
    try {
      return !this.#local.read(rel).exists;
    } catch {
      return false;
    }
  }

  #draining = false;

  /** Sends every due delete as one batch, once the timers firing now have all fired. */
  #drainSoon(): void {
    if (this.#draining) return;
    this.#draining = true;
    setImmediate(() => {
      this.#draining = false;
      if (this.#stopped) return;
      const due = [...this.#pending].filter(([, e]) => e.due === true).map(([rel]) => rel);
      if (due.length > 0) void this.syncMany(due, this.#ctx.config.concurrency);
    });
  }

  /**
   * Syncs `rels` now, as `syncNow` each, except that deletions go to the provider in batches
   * (`deleteMany`: one request per 1,000 keys on S3) when the mount has it. A batch the provider
   * refuses is retried one path at a time, so each failure is reported and requeued on its own.
   * Resolves with one outcome per path, in the order given.
   */
  async syncMany(rels: readonly string[], concurrency: number): Promise<SyncOutcome[]> {
    const mount = this.#record.mount;
    const batch = rels.filter((rel) => this.#batchable(rel));
    const outcomes = new Map<string, Promise<SyncOutcome>>();
    if (mount?.deleteMany && batch.length > 1) {
      const deleteMany = mount.deleteMany.bind(mount);
      const seqs = new Map(batch.map((rel) => [rel, this.#seq.get(rel)]));
      for (const rel of batch) this.cancel(rel);
      const run = (async (): Promise<SyncOutcome[]> => {
        // Put-new before delete-old, as for a single delete.
        await Promise.allSettled([...this.#puts]);
        const out: SyncOutcome[] = [];
        for (let i = 0; i < batch.length; i += DELETE_BATCH) {
          const chunk = batch.slice(i, i + DELETE_BATCH);
          try {
            await deleteMany(chunk);
          } catch {
            for (const rel of chunk) out.push(await this.#attempt(rel, { exists: false }, seqs.get(rel)));
            continue;
          }
          for (const rel of chunk) {
            this.#landed(rel, { exists: false }, undefined, seqs.get(rel));
            this.#dirs.delete(rel);
            out.push({ relPath: rel, op: "delete", ok: true });
          }
        }
        return out;
      })();
      batch.forEach((rel, i) => {
        const chain = run.then((out) => out[i]!);
        this.#chains.set(rel, chain);
        outcomes.set(rel, chain);
        void chain.finally(() => {
          if (this.#chains.get(rel) === chain) this.#chains.delete(rel);
        });
      });
    }
    const rest = rels.filter((rel) => !outcomes.has(rel));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < rest.length) {
        const rel = rest[next++]!;
        const outcome = this.syncNow(rel);
        outcomes.set(rel, outcome);
        await outcome;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, rest.length)) }, worker));
    return Promise.all(rels.map((rel) => outcomes.get(rel)!));
  }

  /** Syncs every pending path, then waits for syncs in flight. Resolves with the failures. */
  async flush(concurrency: number): Promise<SyncOutcome[]> {
    const failures: SyncOutcome[] = [];
    // Deletions leave in batches where the mount has deleteMany (an `rm -r` is one request per 1,000).
    const batched = new Set<string>();
    if (typeof this.#record.mount?.deleteMany === "function") {
      const deletes = [...this.#pending.keys()].filter((rel) => this.#batchable(rel));
      if (deletes.length > 1) {
        for (const rel of deletes) batched.add(rel);
        for (const outcome of await this.syncMany(deletes, concurrency))
          if (!outcome.ok) failures.push(outcome);
      }
    }
    const paths = [...this.#pending.keys()].filter((rel) => !batched.has(rel));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < paths.length) {
        const outcome = await this.syncNow(paths[next++]!);
        if (!outcome.ok) failures.push(outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, paths.length)) }, worker));
    // Syncs started by timers before this flush: wait for them too.
    for (const chain of [...this.#chains.values()]) {
      const outcome = await chain;
      if (!outcome.ok && !failures.some((f) => f.relPath === outcome.relPath)) failures.push(outcome);
    }
    return failures;
  }

  /** Stops every debounce and requeue timer, for good (close and unmount, after their flush). */
  stopTimers(): void {
    this.#stopped = true;
    for (const entry of this.#pending.values()) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.timer = undefined;
    }
  }

  #run(relPath: string, given?: LocalState): Promise<SyncOutcome> {
    const previous = this.#chains.get(relPath);
    const chain: Promise<SyncOutcome> = (async () => {
      if (previous) await previous;
      return this.#sync(relPath, given);
    })();
    this.#chains.set(relPath, chain);
    void chain.finally(() => {
      if (this.#chains.get(relPath) === chain) this.#chains.delete(relPath);
    });
    return chain;
  }

  async #sync(relPath: string, given?: LocalState): Promise<SyncOutcome> {
    let state: LocalState;
    const seq = this.#seq.get(relPath);
    try {
      state = given ?? this.#local.read(relPath);
    } catch (error) {
      // The local state cannot be read (EACCES after a chmod, say): neither a put nor a delete.
      return this.#giveUp(relPath, "put", error, true);
    }
    if (!state.exists) {
      // Put-new before delete-old: wait for this mount's puts already in flight.
      await Promise.allSettled([...this.#puts]);
      return this.#attempt(relPath, state, seq);
    }
    const tracked = this.#attempt(relPath, state, seq);
    this.#puts.add(tracked);
    try {
      return await tracked;
    } finally {
      this.#puts.delete(tracked);
    }
  }

  async #attempt(relPath: string, state: LocalState, seq: number | undefined): Promise<SyncOutcome> {
    const op = state.exists ? "put" : "delete";
    let etag: string | undefined;
    try {
      etag = await this.#send(relPath, state);
    } catch (error) {
      if (state.exists && MountError.isInstance(error) && error.code === "ESTALE") {
        return this.#stale(relPath, state, seq, error);
      }
      return this.#giveUp(relPath, op, error);
    }
    this.#landed(relPath, state, etag, seq);
    if (state.exists && state.directory) {
      // A folder is not a file upstream: it is a marker (where the mount keeps them), or nothing.
      if (this.#record.mount?.mkdir) this.#dirs.add(relPath);
      this.#acked.delete(relPath);
      this.#known.set(relPath, null);
    } else if (!state.exists) this.#dirs.delete(relPath);
    return { relPath, op, ok: true };
  }

  /** The provider acknowledged `state` of `relPath` (with the etag it returned, if any). */
  #landed(relPath: string, state: LocalState, etag: string | undefined, seq: number | undefined): void {
    this.#rounds.delete(relPath);
    this.#dirty = true;
    this.#ackedAt.set(relPath, ++this.#epoch);
    this.#lastAck.set(relPath, state.exists ? "put" : "delete");
    if (state.exists) this.#acked.set(relPath, { size: state.source?.size ?? state.bytes.length, etag });
    else this.#acked.delete(relPath);
    // What upstream now holds: our etag (the base of the next write), or nothing known.
    if (state.exists) this.#known.set(relPath, etag ?? null);
    else this.#known.set(relPath, null);
    if (seq !== undefined) {
      this.#journal?.settle(this.root, relPath, seq);
      if (this.#seq.get(relPath) === seq) this.#seq.delete(relPath);
    }
  }

  /** Sends one put or delete; a put resolves with the etag the provider returned. */
  async #send(relPath: string, state: LocalState, force = false): Promise<string | undefined> {
    const mount = this.#record.mount;
    const path = this.#local.absOf(relPath);
    if (state.exists && state.directory) {
      // A folder: a marker where the mount keeps them; elsewhere folders live in the VFS only. A
      // file that was at this path (now a folder) is deleted first, as before folders were kept.
      if (!this.#dirs.has(relPath)) {
        if (!mount?.delete) throw readOnly(path, this.root, "unlink");
        await mount.delete(relPath);
      }
      // The folder's mode travels with its marker (s3fs's directory objects).
      if (mount?.mkdir)
        await mount.mkdir(relPath, state.mode === undefined ? undefined : { mode: state.mode });
      return undefined;
    }
    if (state.exists) {
      if (!mount?.put) throw readOnly(path, this.root, "write");
      if (state.symlink !== undefined && mount.symlinks !== true) {
        throw new MountError(
          "ENOTSUP",
          `${path}: mount ${this.root} (${mount.kind}) does not store symbolic links; the link -> ${state.symlink} stays in this workspace only`,
          { path, root: this.root, syscall: "symlink" },
        );
      }
      // The file's mode and mtime (and a link's target) travel with every put (not preconditions).
      const meta: PutOptions = {
        ...(state.mode === undefined ? {} : { mode: state.mode }),
        ...(state.mtime === undefined ? {} : { mtime: state.mtime }),
        ...(state.symlink === undefined ? {} : { symlink: state.symlink }),
      };
      const base = this.#known.get(relPath);
      const conditional =
        !force &&
        !this.#noConditional &&
        this.#ctx.config.writeConflicts === "detect" &&
        typeof base === "string";
      const source = state.source;
      const send = (options: PutOptions | undefined) =>
        source && mount.putStream
          ? mount.putStream(relPath, source, options)
          : mount.put!(relPath, state.bytes, options);
      if (conditional) {
        try {
          const result = await send({ ...meta, ifMatch: base });
          return result?.etag;
        } catch (error) {
          if (!(MountError.isInstance(error) && error.code === "ENOTSUP")) throw error;
          // The provider cannot write conditionally: last writer wins for this mount (README).
          this.#noConditional = true;
        }
      }
      const result = await send(Object.keys(meta).length === 0 ? undefined : meta);
      return result?.etag;
    } else if (this.#dirs.has(relPath) && mount?.rmdir) {
      await mount.rmdir(relPath);
      return undefined;
    }
    if (!mount?.delete) throw readOnly(path, this.root, "unlink");
    await mount.delete(relPath);
    return undefined;
  }

  /**
   * The provider refused the write because upstream is no longer the version it was based on
   * (412 / `ESTALE`). When upstream already holds exactly these bytes (our own put landed, but
   * its answer was lost), that is no conflict. Otherwise: a `"version"` conflict with both
   * versions (event and hook); `"keep-local"` overwrites upstream, anything else lets upstream's
   * version replace the local one, and this sync reports the lost write (flush and close reject).
   */
  async #stale(
    relPath: string,
    state: LocalState & { readonly exists: true },
    seq: number | undefined,
    error: MountError,
  ): Promise<SyncOutcome> {
    const mount = this.#record.mount;
    if (state.source) return this.#staleStream(relPath, state, seq, error);
    let upstream: Uint8Array | undefined;
    try {
      upstream = mount && "fetch" in mount ? await mount.fetch(relPath) : undefined;
    } catch (fetchError) {
      if (!(MountError.isInstance(fetchError) && fetchError.code === "ENOENT")) {
        return this.#giveUp(relPath, "put", error);
      }
    }
    if (upstream && Buffer.compare(upstream, state.bytes) === 0) {
      this.#landed(relPath, state, undefined, seq);
      return { relPath, op: "put", ok: true };
    }
    const path = this.#local.absOf(relPath);
    const answer = await this.#ctx.conflict({
      kind: "version",
      root: this.root,
      relPath,
      path,
      local: { exists: true, size: state.bytes.length, etag: this.#known.get(relPath) ?? undefined },
      remote: upstream ? { exists: true, size: upstream.length } : { exists: false },
      error,
    });
    if (answer === "keep-local") return this.#sendOver(relPath, state, seq);
    // Upstream wins: the local version gives way, loudly.
    this.cancel(relPath);
    this.#local.replace(relPath, upstream);
    this.#modified.delete(relPath);
    this.#acked.delete(relPath);
    this.#known.delete(relPath);
    this.#rounds.delete(relPath);
    if (seq !== undefined) this.#journal?.settle(this.root, relPath, seq);
    this.#ctx.stats.writeFailures++;
    return { relPath, op: "put", ok: false, error };
  }

  /** The local version sent over whatever upstream holds (the hook answered "keep-local"). */
  async #sendOver(
    relPath: string,
    state: LocalState & { readonly exists: true },
    seq: number | undefined,
  ): Promise<SyncOutcome> {
    try {
      const etag = await this.#send(relPath, state, true);
      this.#landed(relPath, state, etag, seq);
      return { relPath, op: "put", ok: true };
    } catch (putError) {
      return this.#giveUp(relPath, "put", putError);
    }
  }

  /** `#stale` for a streamed file: upstream is not fetched to compare (it may be as large). */
  async #staleStream(
    relPath: string,
    state: LocalState & { readonly exists: true },
    seq: number | undefined,
    error: MountError,
  ): Promise<SyncOutcome> {
    const answer = await this.#ctx.conflict({
      kind: "version",
      root: this.root,
      relPath,
      path: this.#local.absOf(relPath),
      local: { exists: true, size: state.source?.size, etag: this.#known.get(relPath) ?? undefined },
      remote: { exists: true },
      error,
    });
    if (answer === "keep-local") return this.#sendOver(relPath, state, seq);
    this.#rounds.delete(relPath);
    this.#ctx.stats.writeFailures++;
    return { relPath, op: "put", ok: false, error };
  }

  /**
   * Keeps the path pending so the next flush retries it, reports the failure, and (unless the
   * provider refused it for good) requeues it in the background with capped back-off.
   * `local`: the VFS could not be read, so no provider call (and no observe event) happened.
   */
  #giveUp(relPath: string, op: "put" | "delete", error: unknown, local = false): SyncOutcome {
    const round = this.#rounds.get(relPath) ?? 0;
    this.#rounds.set(relPath, round + 1);
    if (!this.#pending.has(relPath)) {
      const entry: Pending = { timer: undefined };
      this.#pending.set(relPath, entry);
      if (!this.#stopped && requeueable(error)) {
        entry.timer = setTimeout(() => {
          if (this.#pending.get(relPath) !== entry || this.#stopped) return;
          this.#pending.delete(relPath);
          void this.#run(relPath);
        }, requeueDelay(round));
      }
    }
    this.#ctx.stats.writeFailures++;
    const path = this.#local.absOf(relPath);
    // A provider failure reaches the "error" event through the observe layer; a local one here.
    if (local) this.#ctx.emit("error", { root: this.root, path, op, error });
    void this.#ctx.conflict({
      kind: "write-failed",
      root: this.root,
      relPath,
      path,
      local: this.#local.side(path),
      remote: { exists: op === "delete" },
      error,
    });
    return { relPath, op, ok: false, error };
  }
}
