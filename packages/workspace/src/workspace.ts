import { type Mount, MountError, type MountFactory, normalizeAbsolutePath } from "@ws/core";
import { mapConcurrent, type ObserveEvent } from "@ws/provider-kit";
import { Emitter } from "./emitter.js";
import { runExec } from "./exec/exec.js";
import { ExecDir } from "./exec/exec-dir.js";
import type { ExecHost } from "./exec/exec-host.js";
import { ExternalChanges } from "./exec/pull-back.js";
import { ContentCache, cacheBudget, cacheFileLimit } from "./hydrate/content-cache.js";
import { Hydrator } from "./hydrate/hydrator.js";
import { Indexer } from "./index/indexer.js";
import { NO_INDEX_STORE } from "./index-store.js";
import { createMemVol, hostAccess, isRoot, type MemVol } from "./mem-vol.js";
import { Journal, type JournalRecord } from "./mirror/journal.js";
import { Mirror } from "./mirror/mirror.js";
import { WorkspaceContext } from "./runtime/context.js";
import { closeOnExit } from "./runtime/exit-hooks.js";
import { type MountRecord, Registry } from "./runtime/registry.js";
import { toFsError } from "./vfs/fs-errors.js";
import { type MountView, Namespace } from "./vfs/namespace.js";
import { Posix } from "./vfs/posix.js";
import { WorkspaceFs } from "./workspace-fs.js";
import type {
  CacheUsage,
  ExecOptions,
  ExecResult,
  PrefetchOptions,
  PrefetchResult,
  RefreshResult,
  WorkspaceEvents,
  WorkspaceOptions,
  WorkspaceStats,
} from "./workspace-options.js";

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new MountError("EINVAL", `${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new MountError("EINVAL", `${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

function writeConflictsOption(value: unknown): "detect" | "last-writer-wins" {
  if (value === undefined || value === "detect") return "detect";
  if (value === "last-writer-wins") return value;
  throw new MountError(
    "EINVAL",
    `writeConflicts must be "detect" or "last-writer-wins", got ${String(value)}`,
  );
}

/**
 * A virtual workspace over a memfs volume, with mounts that populate subtrees of it (seed 003).
 *
 * ```ts
 * const ws = new Workspace({
 *   mounts: {
 *     "/workspace/docs": MemoryMount({ files: { "a.md": "# A" } }),
 *     "/workspace/out": MemoryMount({ mode: "read-write" }),
 *   },
 * });
 * await ws.fs.readFile("/workspace/docs/a.md", "utf8");
 * await ws.fs.writeFile("/workspace/out/b.txt", "hi");
 * await ws.close(); // flushes the write, then disposes the mounts
 * ```
 */
export class Workspace extends Emitter<WorkspaceEvents> {
  /** The file API (`node:fs/promises` shape). */
  readonly fs: WorkspaceFs;
  readonly #ctx: WorkspaceContext;
  readonly #vol: MemVol = createMemVol();
  readonly #host: MemVol = hostAccess(this.#vol);
  readonly #registry: Registry;
  readonly #ns: Namespace;
  readonly #mirrors = new Map<string, Mirror>();
  readonly #hydrator: Hydrator;
  readonly #cache: ContentCache;
  readonly #indexer: Indexer;
  readonly #posix: Posix;
  readonly #exec: ExecHost;
  readonly #execDir: ExecDir;
  #closed = false;
  /** Set when close() starts: new calls reject, calls in flight finish first. */
  #closing: Promise<void> | undefined;
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #journal: Journal | undefined;
  /** Journal records left by an earlier process, per root, replayed once that mount is indexed. */
  readonly #replay = new Map<string, JournalRecord[]>();
  #exitHooks: (() => void) | undefined;

  constructor(options: WorkspaceOptions = {}) {
    super();
    const retry = options.retry ?? {};
    const ignore = options.ignore ?? [];
    this.#ctx = new WorkspaceContext(
      {
        sessionId: options.sessionId ?? "default",
        ignore,
        indexStore: options.indexStore ?? NO_INDEX_STORE,
        concurrency: positiveInt("concurrency", options.concurrency, 8),
        retries: nonNegative("retry.retries", retry.retries, 5),
        minDelayMs: nonNegative("retry.minDelayMs", retry.minDelayMs, 100),
        maxDelayMs: nonNegative("retry.maxDelayMs", retry.maxDelayMs, 5000),
        onMountConflict: options.onMountConflict,
        writeConflicts: writeConflictsOption(options.writeConflicts),
      },
      (event, payload) => this.emit(event, payload),
    );
    if (options.journal !== undefined) {
      try {
        this.#journal = new Journal(options.journal);
      } catch (error) {
        throw toFsError(error, String(options.journal), "mkdir");
      }
      for (const record of this.#journal.pending()) {
        const list = this.#replay.get(record.root) ?? [];
        list.push(record);
        this.#replay.set(record.root, list);
      }
    }
    // Host-internal access skips memfs's permission checks (modes are metadata, see hostAccess);
    // ws.fs keeps them unless this process is root, for which the kernel skips them too.
    const vol = this.#host;
    this.#registry = new Registry({
      sessionId: this.#ctx.config.sessionId,
      ignore,
      vfs: () => this.fs,
      onAdd: (record) => this.#added(record),
      onDiagnostic: (diagnostic) => this.emit("diagnostic", diagnostic),
      onRemove: (record) => {
        this.#ns.removeView(record.root);
        this.#cache.forget(record.root);
        this.#mirrors.delete(record.root);
      },
      layers: {
        retry:
          this.#ctx.config.retries === 0
            ? false
            : {
                attempts: this.#ctx.config.retries + 1,
                baseMs: this.#ctx.config.minDelayMs,
                maxMs: this.#ctx.config.maxDelayMs,
              },
        concurrency: this.#ctx.config.concurrency,
        observe: (event) => this.#observed(event),
      },
    });
    this.#ns = new Namespace(vol, this.#registry, ignore);
    const mirror = (root: string): Mirror => this.#mirrors.get(root)!;
    this.#cache = new ContentCache(
      { ctx: this.#ctx, ns: this.#ns, vol, mirror: (root) => this.#mirrors.get(root) },
      cacheBudget(options.cache?.maxBytes),
      cacheFileLimit(options.cache?.maxFileBytes),
    );
    this.#hydrator = new Hydrator(this.#ctx, this.#ns, vol, this.#cache);
    this.#indexer = new Indexer({
      ctx: this.#ctx,
      registry: this.#registry,
      ns: this.#ns,
      vol,
      mirror,
      hold: (fn) => this.#cache.hold(fn),
    });
    this.#posix = new Posix({
      registry: this.#registry,
      ns: this.#ns,
      vol: isRoot() ? vol : this.#vol,
      hydrator: this.#hydrator,
      mirror,
    });
    this.fs = new WorkspaceFs({
      run: (fn) => this.#run(fn),
      ns: this.#ns,
      posix: this.#posix,
      openSource: (path) => this.#hydrator.openSource(path),
    });
    if (options.execDir !== undefined && (typeof options.execDir !== "string" || options.execDir === "")) {
      throw new MountError("EINVAL", `execDir must be a directory path, got ${String(options.execDir)}`);
    }
    this.#execDir = new ExecDir({ path: options.execDir, keep: options.keepExecDir === true });
    this.#exec = {
      ctx: this.#ctx,
      ns: this.#ns,
      mem: vol,
      roots: () => this.#registry.roots(),
      mirror,
      ready: () => this.#ready(),
      prefetch: (root) => this.#prefetch(root, {}),
      hydrateMatching: async (match) => {
        const jobs: Array<readonly [MountView, number, string]> = [];
        for (const root of this.#registry.roots()) {
          const view = this.#ns.view(root);
          if (!view) continue;
          const stubs = view.stubs;
          for (let slot = 0; slot < stubs.length; slot++) {
            if (!stubs.isLive(slot)) continue;
            const abs = view.absOf(stubs.path(slot));
            if (match(abs)) jobs.push([view, slot, abs]);
          }
        }
        // As prefetch: a failed fetch leaves the stub (absent for the command), reported by its event.
        await mapConcurrent(jobs, this.#ctx.config.concurrency, ([view, slot, abs]) =>
          this.#hydrator.hydrate(view, slot, abs).catch(() => undefined),
        );
      },
      measureStubs: (absDir, skip) => {
        let files = 0;
        let bytes = 0;
        for (const root of this.#registry.roots()) {
          const view = this.#ns.view(root);
          if (!view || skip.roots.has(root)) continue;
          // The whole root when it lies under absDir; the subtree when absDir lies in it; else nothing.
          const whole = absDir === "/" || root === absDir || root.startsWith(`${absDir}/`);
          if (!whole && !absDir.startsWith(`${root}/`)) continue;
          const stubs = view.stubs;
          for (const slot of stubs.liveSlotsUnder(whole ? "" : absDir.slice(root.length + 1))) {
            files++;
            bytes += stubs.size(slot);
          }
        }
        for (const path of skip.paths) {
          if (absDir !== "/" && path !== absDir && !path.startsWith(`${absDir}/`)) continue;
          const k = this.#ns.kind(this.#ns.resolve(path));
          if (k?.type !== "stub" || skip.roots.has(k.view.root)) continue;
          files--;
          bytes -= k.view.stubs.size(k.slot);
        }
        return { files, bytes };
      },
      refresh: (root) => this.#indexer.refresh(this.#registry.select(root, "refresh")[0]!),
      saveIndex: (root) => this.#save(root),
      apply: new ExternalChanges(this.#ns, vol, mirror),
      execDir: this.#execDir,
    };
    for (const [root, mount] of Object.entries(options.mounts ?? {})) this.#registry.add(root, mount);
    if (options.flushOnExit) {
      this.#exitHooks = closeOnExit(() =>
        this.close().catch((error: unknown) => this.emit("error", { op: "put", error })),
      );
    }
  }

  /** Replays journal records left for mounts indexed since (once each). */
  #replayJournal(): void {
    if (this.#replay.size === 0) return;
    for (const [root, records] of this.#replay) {
      const record = this.#registry.get(root);
      const view = this.#ns.view(root);
      if (record?.phase !== "ready" || !view || !record.writable) continue;
      this.#replay.delete(root);
      const mirror = this.#mirrors.get(root)!;
      for (const r of records) {
        this.#applyLocal(root, r.rel, r.bytes);
        mirror.replayed(r.rel, r.etag);
      }
      this.#ns.recount(view);
    }
  }

  /** Puts `bytes` (or nothing) at `rel` in the VFS, over a stub or a file, without telling the mirror. */
  #applyLocal(root: string, rel: string, bytes: Uint8Array | undefined): void {
    const view = this.#ns.view(root)!;
    const abs = view.absOf(rel);
    const slot = view.stubs.findLive(rel);
    if (slot >= 0) view.stubs.kill(slot);
    if (bytes) this.#ns.writeMem(abs, bytes);
    else this.#host.rmSync(abs, { force: true });
  }

  #added(record: MountRecord): void {
    const view = this.#ns.addView(record);
    this.#mirrors.set(
      record.root,
      new Mirror(
        record,
        this.#ctx,
        {
          read: (rel) => {
            const abs = view.absOf(rel);
            try {
              const st = this.#host.lstatSync(abs);
              // The mode travels with the bytes (a host directory keeps it), minus group/other write:
              // memfs creates files 0o666 where a process on the host would get 0o644 from its umask.
              if (st.isFile())
                return {
                  exists: true,
                  bytes: new Uint8Array(this.#host.readFileSync(abs)),
                  mode: Number(st.mode) & 0o7777 & ~0o022,
                  mtime: Math.floor(st.mtimeMs),
                };
              if (st.isSymbolicLink()) {
                const target = this.#host.readlinkSync(abs);
                return { exists: true, bytes: new TextEncoder().encode(target), symlink: target };
              }
              if (st.isDirectory())
                return {
                  exists: true,
                  bytes: new Uint8Array(0),
                  directory: true,
                  // Kept with the folder's marker; group/other write cleared, as for files.
                  mode: Number(st.mode) & 0o7777 & ~0o022,
                };
            } catch (error) {
              // Only "nothing there" is a deletion; any other failure must not become one.
              const code = (error as { code?: unknown } | null)?.code;
              if (code !== "ENOENT" && code !== "ENOTDIR") throw toFsError(error, abs, "open");
            }
            return { exists: false };
          },
          absOf: (rel) => view.absOf(rel),
          side: (path) => this.#ns.localSide(path),
          baseEtag: (rel) => {
            const slot = view.stubs.find(rel);
            return slot >= 0 ? view.stubs.entry(slot).etag : undefined;
          },
          replace: (rel, bytes) => {
            this.#applyLocal(record.root, rel, bytes);
            this.#ns.recount(view);
          },
        },
        this.#journal,
      ),
    );
  }

  /**
   * The one stream every counter and provider event is made from: each call on a mount (after
   * its retries) and each retry, as the observe layer reports them.
   */
  #observed(event: ObserveEvent): void {
    const { stats } = this.#ctx;
    const view = this.#ns.view(event.root);
    const path = event.path === "" || !view ? event.root : view.absOf(event.path);
    if (event.retryInMs !== undefined) {
      stats.retries++;
      if (event.op === "materialize") return;
      this.emit("retry", {
        root: event.root,
        path,
        op: event.op,
        attempt: event.attempt,
        delayMs: event.retryInMs,
        error: event.error,
      });
      return;
    }
    switch (event.op) {
      case "list":
        stats.listCalls++;
        return;
      case "materialize":
        stats.materializeCalls++;
        return;
      case "fetch":
        stats.fetches++;
        if (event.error) this.emit("error", { root: event.root, path, op: "fetch", error: event.error });
        else {
          stats.bytesIn += event.bytes;
          this.emit("fetch", { root: event.root, path, bytes: event.bytes });
        }
        return;
      case "put":
        if (event.error) this.emit("error", { root: event.root, path, op: "put", error: event.error });
        else {
          stats.puts++;
          stats.bytesOut += event.bytes;
          this.emit("put", { root: event.root, path, bytes: event.bytes });
        }
        return;
      case "delete":
        if (event.error) this.emit("error", { root: event.root, path, op: "delete", error: event.error });
        else if (event.paths && view) {
          // One deleteMany request: every file it removed counts and gets its event.
          stats.deleteRequests++;
          stats.deletes += event.paths.length;
          for (const p of event.paths) this.emit("delete", { root: event.root, path: view.absOf(p) });
        } else {
          stats.deleteRequests++;
          stats.deletes++;
          this.emit("delete", { root: event.root, path });
        }
        return;
    }
  }

  /**
   * Every public call runs through here: it is refused once close() started, and close() waits
   * for the calls already in flight, so a write that resolved is always in the final flush.
   */
  #run<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.#closing || this.#closed) {
      return Promise.reject(
        new MountError("EIO", "the workspace is closed; create a new Workspace to continue"),
      );
    }
    const call = (async () => {
      await this.#ready();
      return fn();
    })();
    this.#inflight.add(call);
    void call.then(
      () => this.#inflight.delete(call),
      () => this.#inflight.delete(call),
    );
    return call;
  }

  async #ready(): Promise<void> {
    if (this.#closed)
      throw new MountError("EIO", "the workspace is closed; create a new Workspace to continue");
    await this.#indexer.ready();
    this.#replayJournal();
  }

  async #save(root: string): Promise<void> {
    const record = this.#registry.get(root);
    if (record) await this.#indexer.save(record);
  }

  /** Live counters (they only grow). */
  get stats(): Readonly<WorkspaceStats> {
    return this.#ctx.stats;
  }

  /** What the content budget (`cache.maxBytes`) holds now; counters as in `stats`. */
  get cache(): CacheUsage {
    return this.#cache.usage();
  }

  /** Mount roots, sorted. */
  get roots(): string[] {
    return this.#registry.roots().sort();
  }

  /**
   * Adds a mount at run time, with the same nesting checks as construction (they throw here).
   * It is indexed by the next `fs`, `exec` or `prefetch` call.
   */
  mount(root: string, mount: Mount | MountFactory): void {
    if (this.#closed || this.#closing) throw new MountError("EIO", "the workspace is closed");
    this.#registry.add(root, mount);
  }

  /** Flushes the mount's pending writes, calls its `dispose()`, and removes its subtree from the VFS. */
  async unmount(root: string): Promise<void> {
    const normalized = normalizeAbsolutePath(root);
    const record = this.#registry.get(normalized);
    if (!record) {
      throw new MountError(
        "ENOENT",
        `${root} is not a mount root; mounted roots: ${this.#registry.roots().join(", ") || "none"}`,
        { path: root, syscall: "unmount" },
      );
    }
    if (this.#indexer.running) await this.#indexer.running.catch(() => undefined);
    if (record.phase === "ready" && record.writable) await this.#flush([record]);
    await this.#dispose(record);
    this.#registry.remove(normalized);
    if (record.phase === "ready") {
      if (record.type === "file") this.#host.rmSync(normalized, { force: true });
      else this.#host.rmSync(normalized, { recursive: true, force: true });
    }
  }

  /** Hydrates every stub of one mount (or of all), `concurrency` fetches at a time. Failures stay stubs. */
  prefetch(root?: string, options: PrefetchOptions = {}): Promise<PrefetchResult> {
    return this.#run(() => this.#prefetch(root, options));
  }

  #prefetch(root: string | undefined, options: PrefetchOptions): Promise<PrefetchResult> {
    const views = this.#registry.select(root, "prefetch").map((r) => this.#ns.view(r.root)!);
    return this.#hydrator.prefetch(views, options);
  }

  /**
   * Mirrors pending writes of one mount (or all) now and resolves once the provider acknowledged
   * every one. Rejects with `EIO` listing the writes that still failed after every retry (they stay
   * pending in the VFS).
   */
  flushMounts(root?: string): Promise<void> {
    return this.#run(() => this.#flush(this.#registry.select(root, "flush")));
  }

  /** Flushes the given mounts; rejects with EIO naming every write that still failed. */
  async #flush(records: MountRecord[]): Promise<void> {
    const failures: Array<{ path: string; error: unknown }> = [];
    await Promise.all(
      records.map(async (record) => {
        if (!record.writable) return;
        const mirror = this.#mirrors.get(record.root)!;
        const view = this.#ns.view(record.root)!;
        for (const f of await mirror.flush(this.#ctx.config.concurrency)) {
          failures.push({ path: view.absOf(f.relPath), error: f.error });
        }
        await this.#indexer.save(record);
      }),
    );
    if (failures.length > 0) {
      const list = failures.map(
        (f) => `${f.path} (${f.error instanceof Error ? f.error.message : String(f.error)})`,
      );
      throw new MountError(
        "EIO",
        `${failures.length} write(s) could not be mirrored after every retry: ${list.join(", ")}; ` +
          "they stay in the VFS and the next flushMounts() retries them",
        { cause: new AggregateError(failures.map((f) => f.error)) },
      );
    }
  }

  /** Re-lists (or re-materialises) one mount and applies upstream additions, changes and deletions. */
  refreshMount(root: string): Promise<RefreshResult> {
    return this.#run(() => {
      const [record] = this.#registry.select(root, "refresh");
      return this.#indexer.refresh(record!);
    });
  }

  /**
   * Runs a command as a child process in the workspace's lasting exec directory (synced with the
   * VFS before the command), then pulls what it changed back.
   */
  exec(command: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<ExecResult> {
    // No evictions while a command runs: it works on a copy of what is local, pulled back after.
    return this.#run(() => this.#cache.hold(() => runExec(this.#exec, command, args, options)));
  }

  async #dispose(record: MountRecord): Promise<void> {
    this.#indexer.unwatch(record.root);
    this.#mirrors.get(record.root)?.stopTimers();
    try {
      await record.raw?.dispose?.();
    } catch (error) {
      this.emit("error", { root: record.root, op: "dispose", error });
    }
  }

  /** Flushes everything pending, then calls each mount's `dispose()`. Later calls reject with `EIO`. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // Calls in flight (a writeFile not yet in the VFS) finish first, so their writes are flushed.
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    let flushError: unknown;
    if (this.#indexer.running) await this.#indexer.running.catch(() => undefined);
    // Journal records left by an earlier process land even if this one made no call.
    if (this.#replay.size > 0) await this.#ready().catch(() => undefined);
    const ready = this.#registry.records().filter((r) => r.phase === "ready");
    try {
      await this.#flush(ready);
    } catch (error) {
      flushError = error;
    }
    this.#closed = true;
    this.#exitHooks?.();
    await this.#execDir.close().catch((error: unknown) => this.emit("error", { op: "dispose", error }));
    for (const record of this.#registry.records()) await this.#dispose(record);
    this.#journal?.close();
    if (flushError) throw flushError;
  }

  /** The lasting exec directory (`WS_ROOT` of every command), once the first `exec` created it. */
  get execDir(): string | undefined {
    return this.#execDir.path;
  }

  /** True once `close()` ran. */
  get closed(): boolean {
    return this.#closed;
  }
}
