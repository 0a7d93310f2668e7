import {
  ancestorsOf,
  baseName,
  checkQuota,
  compileIgnore,
  composeIgnore,
  type IgnoreMatcher,
  isEagerMount,
  type Mount,
  type MountDiagnostic,
  type MountEntry,
  MountError,
  type MountErrorCode,
  type MountFactory,
  MountTable,
  normalizeAbsolutePath,
  parentPath,
  QuotaCounter,
  type QuotaUsage,
  type ResolvedMountOptions,
  readOnly,
  relativeToRoot,
  resolveLinkWithinRoot,
  resolveMountOptions,
  sanitizeEntries,
  type VFS,
  validateMountRoot,
  validateRelativePath,
} from "@ws/core";
import type { IndexKey, IndexStore } from "./index-store.js";
import { mapConcurrent } from "./map-concurrent.js";
import type { FileStats, MemVol } from "./mem-vol.js";
import { createMemVol, writeMemFile } from "./mem-vol.js";
import { StubTable } from "./stub-table.js";
import { VirtualStats, WorkspaceDirent } from "./virtual-stats.js";
import type {
  ConflictResolution,
  ConflictSide,
  IndexEvent,
  MountConflict,
  MountConflictHandler,
  PrefetchOptions,
  PrefetchResult,
  RefreshResult,
  WorkspaceEvents,
  WorkspaceStats,
} from "./workspace-options.js";
import { type LocalState, WriteBack } from "./write-back.js";

export interface MountState {
  readonly root: string;
  readonly source: Mount | MountFactory;
  mount: Mount | undefined;
  type: "directory" | "file";
  phase: "pending" | "ready";
  options: ResolvedMountOptions;
  ignore: IgnoreMatcher;
  /** Empty for eager mounts. */
  stubs: StubTable;
  quota: QuotaCounter;
  /** Undefined for read-only mounts. */
  writeBack: WriteBack | undefined;
  /** A file mount's own name for its one file (what fetch/put/delete receive). */
  filePath: string | undefined;
  indexedAt: number;
  /** Paths whose VFS content differs from the indexed ("base") version. */
  readonly modified: Set<string>;
  /** Paths last put by this workspace, with the size put: upstream of the same size is ours. */
  readonly acked: Map<string, number>;
  /** Paths changed by exec under a read-only mount: local only, never mirrored. */
  readonly localOnly: Set<string>;
  /** The index store is behind (acknowledged writes since the last save). */
  dirty: boolean;
}

export interface HostConfig {
  readonly sessionId: string;
  readonly ignore: readonly string[];
  readonly indexStore: IndexStore;
  readonly concurrency: number;
  readonly retries: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly onMountConflict: MountConflictHandler | undefined;
  readonly emit: <K extends keyof WorkspaceEvents>(event: K, payload: WorkspaceEvents[K]) => void;
}

type Kind =
  | { readonly type: "file" | "directory" | "symlink"; readonly stats: FileStats }
  | { readonly type: "stub"; readonly state: MountState; readonly slot: number }
  | { readonly type: "vdir" }
  | undefined;

interface Resolved {
  readonly path: string;
  readonly state: MountState | undefined;
  /** Relative to the owning mount's root; for a file mount, the provider's name of the file. */
  readonly rel: string;
}

const EMPTY_TABLE = new StubTable([]);
const NO_IGNORE: IgnoreMatcher = () => false;

export function fsError(code: MountErrorCode, syscall: string, path: string, detail?: string): MountError {
  const text: Record<string, string> = {
    ENOENT: "no such file or directory",
    EEXIST: "file already exists",
    EISDIR: "illegal operation on a directory",
    ENOTDIR: "not a directory",
    ENOTEMPTY: "directory not empty",
    EBUSY: "resource busy or locked",
    EINVAL: "invalid argument",
    ENOTSUP: "operation not supported",
  };
  const base = `${text[code] ?? code.toLowerCase()}, ${syscall} '${path}'`;
  return new MountError(code, detail ? `${base}: ${detail}` : base, { path, syscall });
}

function withPath(error: unknown, path: string, syscall: string): unknown {
  // memfs errors already carry code/path/syscall; make sure the path is the workspace path.
  if (error && typeof error === "object" && "code" in error) {
    const e = error as { path?: string; syscall?: string };
    if (e.path === undefined) e.path = path;
    if (e.syscall === undefined) e.syscall = syscall;
  }
  return error;
}

function toBytes(data: string | Uint8Array, path: string, encoding?: BufferEncoding): Buffer {
  if (typeof data === "string") return Buffer.from(data, encoding ?? "utf8");
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new MountError(
    "EINVAL",
    `cannot write ${path}: data must be a string or a Uint8Array (a Buffer is one), got ${typeof data}`,
    { path, syscall: "write" },
  );
}

function hashIno(path: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) {
    h ^= path.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) + 0x100000000;
}

function sameVersion(a: MountEntry, b: MountEntry): boolean {
  if (a.etag !== undefined && b.etag !== undefined) return a.etag === b.etag && a.size === b.size;
  return a.size === b.size && a.mtime === b.mtime;
}

function side(entry: MountEntry | undefined): ConflictSide {
  return entry
    ? { exists: true, size: entry.size, mtimeMs: entry.mtime, etag: entry.etag }
    : { exists: false };
}

/** The engine behind `Workspace` and `ws.fs`: mount states, the memfs volume, stubs and write-back. */
export class Host {
  readonly vol: MemVol = createMemVol();
  readonly states: Map<string, MountState> = new Map();
  readonly stats: WorkspaceStats = {
    listCalls: 0,
    materializeCalls: 0,
    indexLoads: 0,
    fetches: 0,
    dedupHits: 0,
    bytesIn: 0,
    bytesOut: 0,
    puts: 0,
    deletes: 0,
    coalescedWrites: 0,
    retries: 0,
    conflicts: 0,
    writeFailures: 0,
    execs: 0,
  };
  readonly config: HostConfig;
  readonly wsIgnore: IgnoreMatcher;
  vfs: VFS | undefined;
  closed = false;
  #table = new MountTable<MountState>();
  #indexing: Promise<void> | undefined;
  readonly #inflight = new Map<string, Promise<void>>();

  constructor(config: HostConfig) {
    this.config = config;
    this.wsIgnore = compileIgnore(config.ignore);
  }

  // ---------------------------------------------------------------- mounts and indexing

  addMount(root: string, source: Mount | MountFactory): void {
    validateMountRoot(root);
    if (source === null || (typeof source !== "function" && typeof source !== "object")) {
      throw new MountError("EINVAL", `mount ${root} must be a Mount or a MountFactory`, { root });
    }
    const type = typeof source === "function" ? "directory" : (source.rootType ?? "directory");
    const state: MountState = {
      root,
      source,
      mount: typeof source === "function" ? undefined : source,
      type,
      phase: "pending",
      options: resolveMountOptions(typeof source === "function" ? {} : source.options),
      ignore: NO_IGNORE,
      stubs: EMPTY_TABLE,
      quota: new QuotaCounter({}, root),
      writeBack: undefined,
      filePath: undefined,
      indexedAt: 0,
      modified: new Set(),
      acked: new Map(),
      localOnly: new Set(),
      dirty: false,
    };
    try {
      this.#table.add(root, type, state);
    } catch (error) {
      // A factory's rootType is only known once it runs (on first index): a nested pair that
      // involves a factory is checked again then, with the real types.
      const other = MountError.isInstance(error) && error.root ? this.states.get(error.root) : undefined;
      const involvesFactory =
        typeof source === "function" || (other !== undefined && typeof other.source === "function");
      if (!involvesFactory || (MountError.isInstance(error) && error.code === "EEXIST")) throw error;
    }
    this.states.set(root, state);
  }

  /** Waits until every mount is indexed (sharing one pass between concurrent callers). */
  async ready(): Promise<void> {
    if (this.closed)
      throw new MountError("EIO", "the workspace is closed; create a new Workspace to continue");
    while (this.#needsIndex()) {
      this.#indexing ??= this.#indexPass().finally(() => {
        this.#indexing = undefined;
      });
      await this.#indexing;
    }
  }

  #needsIndex(): boolean {
    for (const state of this.states.values()) if (state.phase === "pending") return true;
    return false;
  }

  async #indexPass(): Promise<void> {
    const pending = [...this.states.values()].filter((s) => s.phase === "pending");
    const resolved = await Promise.allSettled(pending.map((s) => this.#resolveMount(s)));
    const firstFailure = resolved.find((r) => r.status === "rejected");
    if (firstFailure) throw (firstFailure as PromiseRejectedResult).reason;
    this.#rebuildTable();
    const results = await Promise.allSettled(pending.map((s) => this.#indexMount(s, false)));
    const errors: unknown[] = [];
    results.forEach((r, i) => {
      if (r.status === "rejected") {
        errors.push(r.reason);
        this.config.emit("error", { root: pending[i]!.root, op: "index", error: r.reason });
      }
    });
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new MountError(
        "EIO",
        `${errors.length} mounts failed to index: ${errors.map(String).join("; ")}`,
        {
          cause: new AggregateError(errors),
        },
      );
    }
  }

  #rebuildTable(): void {
    // A factory's real rootType is known now: rebuild with it (and fail here on a real nesting conflict).
    const table = new MountTable<MountState>();
    for (const state of this.states.values()) table.add(state.root, state.type, state);
    this.#table = table;
  }

  async #resolveMount(state: MountState): Promise<void> {
    if (!state.mount) {
      const factory = state.source as MountFactory;
      const vfs = this.vfs;
      if (!vfs) throw new MountError("EIO", "workspace VFS is not ready", { root: state.root });
      state.mount = await factory({ sessionId: this.config.sessionId, root: state.root, vfs });
    }
    const mount = state.mount;
    if (
      !mount ||
      typeof mount !== "object" ||
      (isEagerMount(mount) ? typeof mount.materialize !== "function" : typeof mount.list !== "function")
    ) {
      throw new MountError(
        "EINVAL",
        `mount ${state.root} is not a Mount: a lazy mount needs list() and fetch(), an eager one materialize()`,
        { root: state.root },
      );
    }
    state.type = mount.rootType ?? "directory";
    state.options = resolveMountOptions(mount.options);
    state.ignore =
      state.type === "file"
        ? NO_IGNORE
        : compileIgnore(composeIgnore(this.config.ignore, state.options.ignore));
    if (mount.writable && !state.writeBack) state.writeBack = this.#createWriteBack(state);
  }

  #createWriteBack(state: MountState): WriteBack {
    const { emit } = this.config;
    const stats = this.stats;
    return new WriteBack({
      root: state.root,
      writeBack: state.options.writeBack,
      writeBackMs: state.options.writeBackMs,
      retries: this.config.retries,
      minDelayMs: this.config.minDelayMs,
      maxDelayMs: this.config.maxDelayMs,
      read: (rel): LocalState => {
        const abs = this.absOf(state, rel);
        try {
          const st = this.vol.lstatSync(abs);
          if (st.isFile()) return { exists: true, bytes: new Uint8Array(this.vol.readFileSync(abs)) };
        } catch {
          // absent: the final state is a deletion
        }
        return { exists: false };
      },
      put: async (rel, bytes) => {
        const put = state.mount?.put;
        if (!put) throw readOnly(this.absOf(state, rel), state.root, "write");
        await put.call(state.mount, rel, bytes);
      },
      delete: async (rel) => {
        const del = state.mount?.delete;
        if (!del) throw readOnly(this.absOf(state, rel), state.root, "unlink");
        await del.call(state.mount, rel);
      },
      onCoalesced: () => {
        stats.coalescedWrites++;
      },
      onRetry: (rel, op, attempt, delayMs, error) => {
        stats.retries++;
        emit("retry", { root: state.root, path: this.absOf(state, rel), op, attempt, delayMs, error });
      },
      onAck: (rel, op, bytes) => {
        const path = this.absOf(state, rel);
        state.dirty = true;
        if (op === "put") {
          stats.puts++;
          stats.bytesOut += bytes;
          state.acked.set(rel, bytes);
          emit("put", { root: state.root, path, bytes });
        } else {
          stats.deletes++;
          state.acked.delete(rel);
          emit("delete", { root: state.root, path });
        }
      },
      onFailed: (rel, op, error) => {
        stats.writeFailures++;
        const path = this.absOf(state, rel);
        emit("error", { root: state.root, path, op, error });
        const local = this.#localSide(path);
        void this.conflict({
          kind: "write-failed",
          root: state.root,
          relPath: rel,
          path,
          local,
          remote: { exists: op === "delete" },
          error,
        });
      },
    });
  }

  /** Reports a conflict (event, counter, hook) and returns the hook's normalised answer. */
  async conflict(conflict: MountConflict): Promise<"accept" | "keep-local"> {
    this.stats.conflicts++;
    this.config.emit("conflict", conflict);
    let answer: ConflictResolution | undefined;
    try {
      answer = await this.config.onMountConflict?.(conflict);
    } catch (error) {
      this.config.emit("error", { root: conflict.root, path: conflict.path, op: "conflict", error });
    }
    return answer === "keep-local" || answer === "keep-do" ? "keep-local" : "accept";
  }

  #localSide(path: string): ConflictSide {
    try {
      const st = this.vol.statSync(path);
      return { exists: true, size: st.size, mtimeMs: st.mtimeMs };
    } catch {
      return { exists: false };
    }
  }

  #indexKey(state: MountState): IndexKey {
    return { sessionId: this.config.sessionId, root: state.root, kind: state.mount?.kind ?? "unknown" };
  }

  #diagnostic(diagnostic: MountDiagnostic): void {
    this.config.emit("diagnostic", diagnostic);
  }

  /** Sanitise, shadow, ignore and quota-check a listing. Throws EDQUOT before anything changes. */
  #prepareListing(
    state: MountState,
    raw: readonly MountEntry[],
  ): { entries: MountEntry[]; usage: QuotaUsage } {
    const { entries: clean, skipped } = sanitizeEntries(raw, state.root);
    for (const d of skipped) this.#diagnostic(d);
    let entries = clean;
    if (state.type === "file") {
      for (const extra of entries.slice(1)) {
        this.#diagnostic({
          code: "duplicate-path",
          key: extra.path,
          root: state.root,
          message: `file mount ${state.root} listed more than one entry; kept ${entries[0]!.path}, skipped ${extra.path}`,
        });
      }
      entries = entries.slice(0, 1);
    } else {
      const shadowed = new Set(this.#table.shadowedIn(state.root));
      const ignore = state.ignore;
      entries = entries.filter((e) => {
        if (shadowed.size > 0 && shadowed.has(e.path)) {
          this.#diagnostic({
            code: "shadowed",
            key: e.path,
            root: state.root,
            message: `${state.root}/${e.path} is hidden by the file mount at that path`,
          });
          return false;
        }
        return !ignore(e.path);
      });
    }
    const usage = checkQuota(entries, state.options, state.root);
    return { entries, usage };
  }

  async #indexMount(state: MountState, refresh: boolean): Promise<RefreshResult | undefined> {
    const mount = state.mount!;
    if (isEagerMount(mount)) return this.#indexEager(state, mount, refresh);
    let raw: readonly MountEntry[] | undefined;
    let fromStore = false;
    let indexedAt = Date.now();
    const key = this.#indexKey(state);
    if (!refresh) {
      const stored = await this.config.indexStore.load(key);
      if (stored) {
        raw = stored.entries;
        indexedAt = stored.indexedAt;
        fromStore = true;
        this.stats.indexLoads++;
      }
    }
    if (!raw) {
      this.stats.listCalls++;
      raw = refresh && mount.refresh ? await mount.refresh() : await mount.list();
      if (!Array.isArray(raw)) {
        throw new MountError(
          "EIO",
          `mount ${state.root} (${mount.kind}): list() resolved to ${typeof raw}, not an array of entries; fix the provider's list()`,
          { path: state.root, root: state.root },
        );
      }
    }
    const { entries, usage } = this.#prepareListing(state, raw);
    let result: RefreshResult | undefined;
    if (refresh && state.phase === "ready") {
      result = await this.#applyRefresh(state, entries);
    } else {
      this.#commitStubs(state, entries, usage);
    }
    state.indexedAt = indexedAt;
    state.phase = "ready";
    if (!fromStore) {
      await this.config.indexStore.save(key, { kind: mount.kind, entries: raw, indexedAt });
      state.dirty = false;
    }
    this.config.emit("index", {
      root: state.root,
      kind: mount.kind,
      strategy: "lazy",
      entries: entries.length,
      bytes: usage.bytes,
      fromStore,
      refresh,
    } satisfies IndexEvent);
    return result;
  }

  #commitStubs(state: MountState, entries: MountEntry[], usage: QuotaUsage): void {
    const stubs = new StubTable(entries);
    state.stubs = stubs;
    if (state.type === "file") state.filePath = entries[0]?.path ?? state.filePath;
    this.#mkdirp(state.type === "file" ? parentPath(state.root) : state.root);
    // Files already in the VFS under a root mounted at run time take precedence over stubs.
    let bytes = usage.bytes;
    let count = usage.entries;
    for (const abs of this.#memFilesUnder(state.root)) {
      const slot = stubs.findLive(this.#relIn(state, abs));
      if (slot >= 0) {
        bytes -= stubs.size(slot);
        count--;
        stubs.kill(slot);
      }
      bytes += this.vol.lstatSync(abs).size;
      count++;
    }
    state.quota = new QuotaCounter(state.options, state.root, { bytes, entries: count });
  }

  async #indexEager(
    state: MountState,
    mount: Extract<Mount, { strategy: "eager" }>,
    refresh: boolean,
  ): Promise<RefreshResult | undefined> {
    const root = state.root;
    const counter = new QuotaCounter(state.options, root);
    const files = new Map<string, { bytes: Uint8Array; mode: number | undefined }>();
    const dirs = new Map<string, number | undefined>();
    const links = new Map<string, string>();
    let failure: unknown;
    const relOf = (absPath: string, allowRoot: boolean): string | undefined => {
      const abs = normalizeAbsolutePath(absPath);
      const rel = relativeToRoot(root, abs);
      if (rel === undefined || (rel === "" && !allowRoot)) {
        throw new MountError("EINVAL", `materialize wrote ${absPath}, outside mount root ${root}`, {
          path: absPath,
          root,
        });
      }
      if (rel !== "" && state.ignore(rel)) return undefined;
      return rel;
    };
    const guard = <A extends unknown[]>(fn: (...args: A) => void) => {
      return (...args: A): void => {
        try {
          fn(...args);
        } catch (error) {
          failure ??= error;
          throw error;
        }
      };
    };
    const api = {
      root,
      writeFile: guard((absPath: string, bytes: Uint8Array, mode?: number) => {
        const rel = relOf(absPath, state.type === "file");
        if (rel === undefined) return;
        if (!(bytes instanceof Uint8Array))
          throw new MountError(
            "EINVAL",
            `materialize wrote ${absPath} with ${typeof bytes}; api.writeFile takes a Uint8Array`,
            { path: absPath, root },
          );
        const old = files.get(rel);
        if (old) counter.replace(old.bytes.length, bytes.length, absPath);
        else counter.add(bytes.length, absPath);
        files.set(rel, { bytes: new Uint8Array(bytes), mode });
      }),
      mkdir: guard((absPath: string, mode?: number) => {
        const rel = relOf(absPath, true);
        if (rel === undefined || rel === "") return;
        dirs.set(rel, mode);
      }),
      symlink: guard((absPath: string, target: string) => {
        const rel = relOf(absPath, false);
        if (rel === undefined) return;
        resolveLinkWithinRoot(root, normalizeAbsolutePath(absPath), target);
        links.set(rel, target);
      }),
    };
    this.stats.materializeCalls++;
    await mount.materialize(api);
    if (failure) throw failure;
    // Reject trees memfs could not hold (a file that is also a directory) before touching the VFS.
    const isFile = (rel: string): boolean => files.has(rel) || links.has(rel);
    for (const rel of [...files.keys(), ...dirs.keys(), ...links.keys()]) {
      if (rel !== "") validateRelativePath(rel, root);
      for (const a of ancestorsOf(rel)) {
        if (isFile(a)) {
          throw new MountError(
            "EINVAL",
            `materialize wrote ${root}/${rel} below the file ${root}/${a}; a path cannot be both a file and a directory`,
            { path: `${root}/${rel}`, root },
          );
        }
      }
      if (dirs.has(rel) && isFile(rel)) {
        throw new MountError(
          "EINVAL",
          `materialize made ${root}/${rel} both a file and a directory; write it as one or the other`,
          { path: `${root}/${rel}`, root },
        );
      }
    }
    let result: RefreshResult | undefined;
    const abs = (rel: string): string => (rel === "" ? root : `${root}/${rel}`);
    if (refresh && state.phase === "ready") {
      result = await this.#applyEagerRefresh(state, files);
    } else {
      this.#mkdirp(state.type === "file" ? parentPath(root) : root);
      for (const [rel, mode] of [...dirs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        this.vol.mkdirSync(abs(rel), { recursive: true, ...(mode === undefined ? {} : { mode }) });
      }
      for (const [rel, file] of files) this.#writeMem(abs(rel), file.bytes, file.mode);
      for (const [rel, target] of links) {
        this.#mkdirp(parentPath(abs(rel)));
        this.vol.symlinkSync(target, abs(rel));
      }
    }
    state.stubs = EMPTY_TABLE;
    state.quota = new QuotaCounter(state.options, root, this.#memUsage(state));
    state.indexedAt = Date.now();
    state.phase = "ready";
    this.config.emit("index", {
      root,
      kind: mount.kind,
      strategy: "eager",
      entries: files.size,
      bytes: counter.bytes,
      fromStore: false,
      refresh,
    });
    return result;
  }

  // ---------------------------------------------------------------- path helpers

  resolve(path: string): Resolved {
    if (typeof path !== "string") {
      throw new MountError("EINVAL", `path must be a string, got ${typeof path}`, { path: String(path) });
    }
    const abs = normalizeAbsolutePath(path);
    const owner = this.#table.owner(abs);
    if (!owner) return { path: abs, state: undefined, rel: abs.slice(1) };
    const state = owner.value;
    const rel = state.type === "file" ? (state.filePath ?? baseName(state.root)) : owner.relPath;
    return { path: abs, state, rel };
  }

  absOf(state: MountState, rel: string): string {
    return state.type === "file" ? state.root : `${state.root}/${rel}`;
  }

  #relIn(state: MountState, abs: string): string {
    if (state.type === "file") return state.filePath ?? baseName(state.root);
    return relativeToRoot(state.root, abs) ?? "";
  }

  isIgnored(r: Resolved): boolean {
    if (r.state) return r.path !== r.state.root && r.state.ignore(r.rel);
    return r.rel !== "" && this.wsIgnore(r.rel);
  }

  /** What is at a path: a memfs node, a stub, a virtual directory, or nothing. */
  kind(r: Resolved, follow = false): Kind {
    if (this.isIgnored(r)) return undefined;
    try {
      const stats = follow ? this.vol.statSync(r.path) : this.vol.lstatSync(r.path);
      const type = stats.isSymbolicLink() ? "symlink" : stats.isDirectory() ? "directory" : "file";
      return { type, stats };
    } catch {
      // not in memfs
    }
    const state = r.state;
    if (state) {
      if (state.type === "file") {
        const slot = state.stubs.findLive(r.rel);
        return slot >= 0 ? { type: "stub", state, slot } : undefined;
      }
      if (r.rel === "") return { type: "vdir" };
      const slot = state.stubs.findLive(r.rel);
      if (slot >= 0) return { type: "stub", state, slot };
      if (state.stubs.hasDir(r.rel)) return { type: "vdir" };
    }
    for (const root of this.#table.rootsUnder(r.path)) {
      const st = this.states.get(root);
      if (st?.type === "directory" || (st && this.kind(this.resolve(root)) !== undefined))
        return { type: "vdir" };
    }
    return undefined;
  }

  #mkdirp(absDir: string): void {
    if (absDir === "/") return;
    this.vol.mkdirSync(absDir, { recursive: true });
  }

  /**
   * `adopt`: `bytes` is exclusively ours and never used again (a LazyMount `fetch` result), so memfs
   * may keep it as the file's content instead of copying it (see writeMemFile).
   */
  #writeMem(abs: string, bytes: Uint8Array, mode?: number, adopt = false): void {
    this.#mkdirp(parentPath(abs));
    writeMemFile(this.vol, abs, bytes, mode, adopt);
    if (mode !== undefined) this.vol.chmodSync(abs, mode);
  }

  /** Absolute paths of memfs files and symlinks under `absDir` (itself, if it is a file). */
  #memFilesUnder(absDir: string): string[] {
    const out: string[] = [];
    let top: FileStats;
    try {
      top = this.vol.lstatSync(absDir);
    } catch {
      return out;
    }
    if (!top.isDirectory()) return [absDir];
    const walk = (dir: string): void => {
      for (const d of this.vol.readdirSync(dir, { withFileTypes: true })) {
        const p = dir === "/" ? `/${String(d.name)}` : `${dir}/${String(d.name)}`;
        if (d.isDirectory()) walk(p);
        else out.push(p);
      }
    };
    walk(absDir);
    return out;
  }

  #memUsage(state: MountState): QuotaUsage {
    let bytes = 0;
    let entries = 0;
    for (const abs of this.#memFilesUnder(state.root)) {
      bytes += this.vol.lstatSync(abs).size;
      entries++;
    }
    return { bytes: bytes + state.stubs.liveBytes, entries: entries + state.stubs.liveCount };
  }

  #stubStats(state: MountState, slot: number, abs: string): VirtualStats {
    const mtime = state.stubs.mtime(slot);
    const mode = state.stubs.mode(slot);
    return new VirtualStats(
      "file",
      state.stubs.size(slot),
      Number.isNaN(mtime) ? state.indexedAt : mtime,
      mode === 0 ? 0o644 : mode,
      hashIno(abs),
    );
  }

  #dirStats(r: Resolved): VirtualStats {
    return new VirtualStats("directory", 0, r.state?.indexedAt ?? 0, 0o755, hashIno(r.path));
  }

  /** Throws EROFS when `r` belongs to a read-only mount. */
  assertWritable(r: Resolved, syscall: string): void {
    if (r.state && !r.state.writeBack) throw readOnly(r.path, r.state.root, syscall);
  }

  #assertNotIgnored(r: Resolved, syscall: string): void {
    if (this.isIgnored(r)) {
      throw new MountError(
        "EINVAL",
        `${r.path} is hidden by an ignore pattern; ignored paths cannot be written (remove the pattern to write it), ${syscall} '${r.path}'`,
        { path: r.path, root: r.state?.root, syscall },
      );
    }
  }

  /** Makes sure the parent directory exists (creating memfs dirs for virtual ones). */
  #prepareParent(r: Resolved, syscall: string): void {
    const parent = this.resolve(parentPath(r.path));
    const k = this.kind(parent, true);
    if (!k) throw fsError("ENOENT", syscall, r.path);
    if (k.type === "vdir") this.#mkdirp(parent.path);
    else if (k.type !== "directory") throw fsError("ENOTDIR", syscall, r.path);
  }

  #schedule(state: MountState | undefined, rel: string): void {
    if (!state) return;
    state.modified.add(rel);
    state.writeBack?.schedule(rel);
  }

  // ---------------------------------------------------------------- reads

  /** Hydrates a stub (one fetch per path, shared by concurrent readers). */
  hydrate(state: MountState, slot: number, abs: string): Promise<void> {
    const running = this.#inflight.get(abs);
    if (running) {
      this.stats.dedupHits++;
      return running;
    }
    const rel = state.stubs.path(slot);
    const stubs = state.stubs;
    const promise = (async () => {
      this.stats.fetches++;
      let bytes: Uint8Array;
      try {
        const mount = state.mount;
        if (!mount || isEagerMount(mount))
          throw new MountError("EIO", `${abs} has no lazy mount to fetch from`);
        bytes = await mount.fetch(rel);
        if (!(bytes instanceof Uint8Array))
          throw new MountError("EIO", `fetch(${rel}) did not return a Uint8Array`);
      } catch (cause) {
        const code = MountError.isInstance(cause) ? cause.code : "EIO";
        const error = new MountError(
          code,
          `cannot read ${abs}: fetch from mount ${state.root} (${state.mount?.kind ?? "?"}) failed: ${
            cause instanceof Error ? cause.message : String(cause)
          }; the file stays a stub and the next read retries`,
          { path: abs, root: state.root, syscall: "open", cause },
        );
        this.config.emit("error", { root: state.root, path: abs, op: "fetch", error });
        throw error;
      }
      this.stats.bytesIn += bytes.length;
      // A write or delete while the fetch was in flight wins over the fetched bytes.
      if (state.stubs === stubs && stubs.isLive(slot)) {
        const mode = stubs.mode(slot);
        // The fetch contract gives us a fresh array nobody else holds: memfs adopts it, no copy.
        this.#writeMem(abs, bytes, mode === 0 ? undefined : mode, true);
        const mtime = stubs.mtime(slot);
        if (!Number.isNaN(mtime)) this.vol.utimesSync(abs, mtime / 1000, mtime / 1000);
        stubs.kill(slot);
      }
      this.config.emit("fetch", { root: state.root, path: abs, bytes: bytes.length });
    })().finally(() => {
      this.#inflight.delete(abs);
    });
    this.#inflight.set(abs, promise);
    return promise;
  }

  /** Resolves a path to a memfs file, hydrating a stub first. Throws ENOENT/EISDIR. */
  async materializeFile(path: string, syscall: string): Promise<Resolved> {
    const r = this.resolve(path);
    for (let attempt = 0; attempt < 3; attempt++) {
      const k = this.kind(r, true);
      if (!k) throw fsError("ENOENT", syscall, r.path);
      if (k.type === "stub") {
        await this.hydrate(k.state, k.slot, r.path);
        continue;
      }
      if (k.type === "vdir" || k.type === "directory") throw fsError("EISDIR", syscall, r.path);
      return r;
    }
    return r;
  }

  async readFile(path: string): Promise<Buffer> {
    const r = await this.materializeFile(path, "open");
    try {
      return this.vol.readFileSync(r.path);
    } catch (error) {
      throw withPath(error, r.path, "open");
    }
  }

  stat(path: string, follow: boolean): FileStats {
    const r = this.resolve(path);
    const syscall = follow ? "stat" : "lstat";
    const k = this.kind(r, follow);
    if (!k) throw fsError("ENOENT", syscall, r.path);
    if (k.type === "stub") return this.#stubStats(k.state, k.slot, r.path);
    if (k.type === "vdir") return this.#dirStats(r);
    return k.stats;
  }

  exists(path: string): boolean {
    try {
      return this.kind(this.resolve(path), true) !== undefined;
    } catch {
      return false;
    }
  }

  readdir(path: string): Array<{ name: string; type: "file" | "directory" | "symlink" }> {
    const r = this.resolve(path);
    const k = this.kind(r, true);
    if (!k) throw fsError("ENOENT", "scandir", r.path);
    if (k.type !== "directory" && k.type !== "vdir") throw fsError("ENOTDIR", "scandir", r.path);
    const out = new Map<string, "file" | "directory" | "symlink">();
    if (k.type === "directory") {
      for (const d of this.vol.readdirSync(r.path, { withFileTypes: true })) {
        out.set(String(d.name), d.isDirectory() ? "directory" : d.isSymbolicLink() ? "symlink" : "file");
      }
    }
    const state = r.state;
    if (state && state.type === "directory") {
      for (const name of state.stubs.fileNames(r.rel)) if (!out.has(name)) out.set(name, "file");
      for (const name of state.stubs.dirNames(r.rel)) if (!out.has(name)) out.set(name, "directory");
    }
    const prefix = r.path === "/" ? "/" : `${r.path}/`;
    for (const root of this.#table.rootsUnder(r.path)) {
      const rest = root.slice(prefix.length);
      const slash = rest.indexOf("/");
      const name = slash < 0 ? rest : rest.slice(0, slash);
      if (out.has(name)) continue;
      const st = this.states.get(root);
      if (slash < 0 && st?.type === "file") {
        if (this.kind(this.resolve(root)) !== undefined) out.set(name, "file");
      } else {
        out.set(name, "directory");
      }
    }
    // Ignored names never reach memfs or the stub table; filter anyway for roots' parents.
    const result: Array<{ name: string; type: "file" | "directory" | "symlink" }> = [];
    for (const [name, type] of out) {
      if (this.isIgnored(this.resolve(prefix + name))) continue;
      result.push({ name, type });
    }
    return result.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  readdirEntries(path: string): WorkspaceDirent[] {
    const parent = normalizeAbsolutePath(path);
    return this.readdir(parent).map((e) => new WorkspaceDirent(e.name, parent, e.type));
  }

  // ---------------------------------------------------------------- writes

  /** Writes (or appends) a file: checks, quota, VFS, then schedules the provider write. */
  async writeFile(
    path: string,
    data: string | Uint8Array,
    options: {
      mode?: number | undefined;
      append?: boolean;
      encoding?: BufferEncoding | undefined;
      flag?: string;
    },
  ): Promise<void> {
    const syscall = "open";
    let r = this.resolve(path);
    this.#assertNotIgnored(r, syscall);
    this.assertWritable(r, syscall);
    let k = this.kind(r, true);
    if (k?.type === "stub" && (options.append || options.flag?.startsWith("a"))) {
      await this.hydrate(k.state, k.slot, r.path);
      r = this.resolve(path);
      k = this.kind(r, true);
    }
    if (k && (k.type === "directory" || k.type === "vdir")) throw fsError("EISDIR", syscall, r.path);
    if (k && options.flag?.includes("x")) throw fsError("EEXIST", syscall, r.path);
    const bytes = toBytes(data, r.path, options.encoding);
    const append = options.append || options.flag?.startsWith("a");
    const oldSize = k ? (k.type === "stub" ? k.state.stubs.size(k.slot) : k.stats.size) : -1;
    const newSize = append && oldSize >= 0 ? oldSize + bytes.length : bytes.length;
    this.#prepareParent(r, syscall);
    const state = r.state;
    if (state) {
      if (oldSize >= 0) state.quota.replace(oldSize, newSize, r.path);
      else state.quota.add(newSize, r.path);
    }
    try {
      if (append && k && k.type !== "stub") {
        const old = this.vol.readFileSync(r.path);
        this.vol.writeFileSync(r.path, Buffer.concat([old, bytes]));
      } else {
        const mode = options.mode ?? (k?.type === "stub" && k.state.stubs.mode(k.slot)) ?? undefined;
        this.vol.writeFileSync(r.path, bytes, mode ? { mode } : {});
      }
    } catch (error) {
      if (state) {
        // Undo the quota reservation: nothing was written.
        if (oldSize >= 0) state.quota.replace(newSize, oldSize);
        else state.quota.remove(newSize);
      }
      throw withPath(error, r.path, syscall);
    }
    if (k?.type === "stub") k.state.stubs.kill(k.slot);
    this.#schedule(state, r.rel);
  }

  mkdir(path: string, options: { recursive?: boolean; mode?: number }): string | undefined {
    const r = this.resolve(path);
    this.#assertNotIgnored(r, "mkdir");
    const k = this.kind(r, true);
    if (k) {
      if (options.recursive && (k.type === "directory" || k.type === "vdir")) return undefined;
      throw fsError("EEXIST", "mkdir", r.path);
    }
    // Every missing directory from the top down; each must be writable.
    const missing: Resolved[] = [r];
    for (let p = parentPath(r.path); p !== "/"; p = parentPath(p)) {
      const pr = this.resolve(p);
      const pk = this.kind(pr, true);
      if (pk) {
        if (pk.type !== "directory" && pk.type !== "vdir") throw fsError("ENOTDIR", "mkdir", r.path);
        break;
      }
      if (!options.recursive) throw fsError("ENOENT", "mkdir", r.path);
      missing.push(pr);
    }
    for (const m of missing) this.assertWritable(m, "mkdir");
    // Virtual parents become real memfs directories; mkdir touches the VFS only (seed table).
    this.#mkdirp(parentPath(r.path));
    this.vol.mkdirSync(r.path, options.mode === undefined ? {} : { mode: options.mode });
    return options.recursive ? missing[missing.length - 1]!.path : undefined;
  }

  /** Removes one file (memfs file, symlink or stub) and schedules the provider delete. */
  #removeFile(r: Resolved, k: NonNullable<Kind>): void {
    if (k.type === "stub") {
      k.state.quota.remove(k.state.stubs.size(k.slot));
      k.state.stubs.kill(k.slot);
    } else {
      const size = k.type === "symlink" ? 0 : (k as { stats: FileStats }).stats.size;
      this.vol.unlinkSync(r.path);
      if (r.state && k.type !== "symlink") r.state.quota.remove(size);
    }
    this.#schedule(r.state, r.rel);
  }

  unlink(path: string): void {
    const r = this.resolve(path);
    const k = this.kind(r);
    if (!k) throw fsError("ENOENT", "unlink", r.path);
    if (k.type === "directory" || k.type === "vdir") throw fsError("EISDIR", "unlink", r.path);
    this.assertWritable(r, "unlink");
    this.#removeFile(r, k);
  }

  rmdir(path: string): void {
    const r = this.resolve(path);
    const k = this.kind(r);
    if (!k) throw fsError("ENOENT", "rmdir", r.path);
    if (k.type !== "directory" && k.type !== "vdir") throw fsError("ENOTDIR", "rmdir", r.path);
    if (this.states.has(r.path)) throw fsError("EBUSY", "rmdir", r.path, "it is a mount root");
    this.assertWritable(r, "rmdir");
    if (this.readdir(r.path).length > 0) throw fsError("ENOTEMPTY", "rmdir", r.path);
    if (k.type === "directory") this.vol.rmdirSync(r.path);
  }

  rm(path: string, options: { recursive?: boolean; force?: boolean }): void {
    const r = this.resolve(path);
    const k = this.kind(r);
    if (!k) {
      if (options.force) return;
      throw fsError("ENOENT", "rm", r.path);
    }
    if (k.type !== "directory" && k.type !== "vdir") {
      this.assertWritable(r, "rm");
      this.#removeFile(r, k);
      return;
    }
    if (!options.recursive)
      throw fsError("EISDIR", "rm", r.path, "use { recursive: true } to remove a directory");
    // Check everything before removing anything: a read-only mount anywhere below refuses the rm.
    this.assertWritable(r, "rm");
    const inner = this.#table.rootsUnder(r.path).map((root) => this.states.get(root)!);
    for (const st of inner) if (!st.writeBack) throw readOnly(r.path, st.root, "rm");
    // Stubs of the owning mount under this directory, and of every mount below it.
    const stubTargets: Array<[MountState, string]> = [];
    if (r.state?.type === "directory") stubTargets.push([r.state, r.rel]);
    for (const st of inner) if (st.type === "directory") stubTargets.push([st, ""]);
    for (const [st, relDir] of stubTargets) {
      for (const slot of [...st.stubs.liveSlotsUnder(relDir)]) {
        const rel = st.stubs.path(slot);
        st.quota.remove(st.stubs.size(slot));
        st.stubs.kill(slot);
        this.#schedule(st, rel);
      }
    }
    for (const st of inner) {
      if (st.type === "file") {
        const fr = this.resolve(st.root);
        const fk = this.kind(fr);
        if (fk?.type === "stub") this.#removeFile(fr, fk);
      }
    }
    for (const abs of this.#memFilesUnder(r.path)) {
      const fr = this.resolve(abs);
      const fk = this.kind(fr);
      if (fk) this.#removeFile(fr, fk);
    }
    if (k.type === "directory") this.vol.rmSync(r.path, { recursive: true, force: true });
    // Mount roots below stay: a mount root always exists while the mount does.
  }

  async rename(from: string, to: string): Promise<void> {
    const src = this.resolve(from);
    const dst = this.resolve(to);
    const sk = this.kind(src);
    if (!sk) throw fsError("ENOENT", "rename", src.path);
    this.#assertNotIgnored(dst, "rename");
    this.assertWritable(src, "rename");
    this.assertWritable(dst, "rename");
    if (src.path === dst.path) return;
    if (this.states.has(src.path) || this.states.has(dst.path)) {
      throw fsError("EBUSY", "rename", src.path, "a mount root cannot be renamed");
    }
    if (this.#table.rootsUnder(src.path).length > 0) {
      throw fsError("EBUSY", "rename", src.path, "it contains a mount root");
    }
    if (relativeToRoot(src.path, dst.path) !== undefined) throw fsError("EINVAL", "rename", src.path);
    const isDir = sk.type === "directory" || sk.type === "vdir";
    const dk = this.kind(dst);
    if (dk) {
      const dstIsDir = dk.type === "directory" || dk.type === "vdir";
      if (isDir && !dstIsDir) throw fsError("ENOTDIR", "rename", dst.path);
      if (!isDir && dstIsDir) throw fsError("EISDIR", "rename", dst.path);
      if (dstIsDir && this.readdir(dst.path).length > 0) throw fsError("ENOTEMPTY", "rename", dst.path);
    }
    this.#prepareParent(dst, "rename");
    // Bytes must be local to move them: hydrate the stubs being moved.
    if (sk.type === "stub") await this.hydrate(sk.state, sk.slot, src.path);
    if (isDir && src.state?.type === "directory") {
      const st = src.state;
      const slots = [...st.stubs.liveSlotsUnder(src.rel)];
      await mapConcurrent(slots, this.config.concurrency, (slot) =>
        this.hydrate(st, slot, this.absOf(st, st.stubs.path(slot))),
      );
      if (this.kind(src)?.type === "vdir") this.#mkdirp(src.path);
    }
    const moved = this.#memFilesUnder(src.path).map((abs) => {
      const rest = abs.slice(src.path.length);
      return {
        from: this.resolve(abs),
        to: this.resolve(dst.path + rest),
        size: this.vol.lstatSync(abs).size,
      };
    });
    // Quota on the destination mount, before anything moves.
    const byDst = new Map<MountState, { bytes: number; entries: number }>();
    const dstOld =
      dk && dk.type !== "directory" && dk.type !== "vdir" && dst.state
        ? dk.type === "stub"
          ? dk.state.stubs.size(dk.slot)
          : dk.stats.size
        : -1;
    for (const m of moved) {
      if (!m.to.state || m.to.state === m.from.state) continue;
      const u = byDst.get(m.to.state) ?? { bytes: 0, entries: 0 };
      u.bytes += m.size;
      u.entries += 1;
      byDst.set(m.to.state, u);
    }
    if (dstOld >= 0 && dst.state) {
      const u = byDst.get(dst.state) ?? { bytes: 0, entries: 0 };
      u.bytes -= dstOld;
      u.entries -= 1;
      byDst.set(dst.state, u);
    }
    for (const [st, u] of byDst) st.quota.check(u.bytes, u.entries, dst.path);
    if (dstOld >= 0 && dst.state) dst.state.quota.remove(dstOld);
    for (const m of moved) {
      if (m.to.state && m.to.state !== m.from.state) m.to.state.quota.add(m.size, m.to.path);
    }
    if (dk?.type === "stub") dk.state.stubs.kill(dk.slot);
    if (dk?.type === "vdir") this.#mkdirp(dst.path);
    try {
      this.vol.renameSync(src.path, dst.path);
    } catch (error) {
      throw withPath(error, src.path, "rename");
    }
    for (const m of moved) {
      if (m.from.state && m.from.state !== m.to.state) m.from.state.quota.remove(m.size);
    }
    // Put the new paths first, then delete the old ones (not atomic on object stores).
    for (const m of moved) this.#schedule(m.to.state, m.to.rel);
    for (const m of moved) this.#schedule(m.from.state, m.from.rel);
  }

  async chmod(path: string, mode: number): Promise<void> {
    const r = await this.#metadataTarget(path, "chmod");
    this.vol.chmodSync(r.path, mode);
  }

  async utimes(path: string, atime: number | Date, mtime: number | Date): Promise<void> {
    const r = await this.#metadataTarget(path, "utime");
    this.vol.utimesSync(r.path, atime, mtime);
  }

  /** A writable path made a real memfs node, since metadata lives on memfs nodes, not stubs or virtual dirs. */
  async #metadataTarget(path: string, syscall: string): Promise<Resolved> {
    const r = this.resolve(path);
    this.assertWritable(r, syscall);
    const k = this.kind(r, true);
    if (!k) throw fsError("ENOENT", syscall, r.path);
    if (k.type === "stub") await this.hydrate(k.state, k.slot, r.path);
    if (this.kind(r, true)?.type === "vdir") this.#mkdirp(r.path);
    return r;
  }

  symlink(target: string, path: string): void {
    const r = this.resolve(path);
    this.#assertNotIgnored(r, "symlink");
    this.assertWritable(r, "symlink");
    if (r.state) {
      throw fsError(
        "ENOTSUP",
        "symlink",
        r.path,
        `mount ${r.state.root} stores files only; a symlink could not be mirrored to it`,
      );
    }
    if (this.kind(r)) throw fsError("EEXIST", "symlink", r.path);
    this.#prepareParent(r, "symlink");
    this.vol.symlinkSync(target, r.path);
  }

  readlink(path: string): string {
    const r = this.resolve(path);
    const k = this.kind(r);
    if (!k) throw fsError("ENOENT", "readlink", r.path);
    if (k.type !== "symlink") throw fsError("EINVAL", "readlink", r.path);
    return this.vol.readlinkSync(r.path);
  }

  realpath(path: string): string {
    const r = this.resolve(path);
    const k = this.kind(r, true);
    if (!k) throw fsError("ENOENT", "realpath", r.path);
    if (k.type === "stub" || k.type === "vdir") return r.path;
    return this.vol.realpathSync(r.path);
  }

  // ---------------------------------------------------------------- exec support

  /**
   * Applies a file the exec side wrote: VFS only (no EROFS, no write-back; the caller mirrors).
   * Returns the paths of stubs that disappeared because the file replaced a directory holding them:
   * they were absent on the exec side, but the directory they lived in is gone, so the caller must
   * delete them from the provider as well.
   */
  applyExternalFile(r: Resolved, bytes: Uint8Array, mode: number): string[] {
    const k = this.kind(r);
    const replacesDir = k !== undefined && (k.type === "directory" || k.type === "vdir");
    const oldSize =
      k && !replacesDir
        ? k.type === "stub"
          ? k.state.stubs.size(k.slot)
          : k.type === "file"
            ? k.stats.size
            : 0
        : -1;
    const state = r.state;
    const orphans = replacesDir && state?.type === "directory" ? [...state.stubs.liveSlotsUnder(r.rel)] : [];
    if (state?.writeBack) {
      const freed = orphans.reduce((sum, slot) => sum + state.stubs.size(slot), 0);
      if (oldSize >= 0) state.quota.replace(oldSize, bytes.length, r.path);
      else state.quota.adjust(bytes.length - freed, 1 - orphans.length, r.path);
    }
    if (k && (k.type === "directory" || k.type === "symlink"))
      this.vol.rmSync(r.path, { recursive: true, force: true });
    const removed: string[] = [];
    for (const slot of orphans) {
      const rel = state!.stubs.path(slot);
      state!.stubs.kill(slot);
      if (!state!.writeBack) state!.quota.remove(state!.stubs.size(slot));
      state!.modified.add(rel);
      if (!state!.writeBack) state!.localOnly.add(rel);
      removed.push(this.absOf(state!, rel));
    }
    this.#writeMem(r.path, bytes, mode);
    if (k?.type === "stub") k.state.stubs.kill(k.slot);
    if (state) {
      state.modified.add(r.rel);
      if (!state.writeBack) state.localOnly.add(r.rel);
    }
    return removed;
  }

  /** True when a file, symlink or stub (not a directory) is at `path`. */
  isFileAt(path: string): boolean {
    const k = this.kind(this.resolve(path));
    return k !== undefined && k.type !== "directory" && k.type !== "vdir";
  }

  applyExternalDelete(r: Resolved): void {
    const k = this.kind(r);
    if (!k || k.type === "directory" || k.type === "vdir") return;
    const state = r.state;
    if (k.type === "stub") {
      k.state.stubs.kill(k.slot);
    } else {
      this.vol.unlinkSync(r.path);
    }
    if (state) {
      state.quota.remove(k.type === "stub" ? state.stubs.size(k.slot) : k.type === "file" ? k.stats.size : 0);
      state.modified.add(r.rel);
      if (!state.writeBack) state.localOnly.add(r.rel);
    }
  }

  applyExternalDir(r: Resolved, mode: number): void {
    if (this.kind(r)) return;
    this.#mkdirp(r.path);
    this.vol.chmodSync(r.path, mode);
  }

  applyExternalSymlink(r: Resolved, target: string): void {
    const k = this.kind(r);
    if (k) this.vol.rmSync(r.path, { recursive: true, force: true });
    this.#mkdirp(parentPath(r.path));
    this.vol.symlinkSync(target, r.path);
  }

  removeEmptyDir(path: string): void {
    try {
      this.vol.rmdirSync(path);
    } catch {
      // not empty or gone: leave it
    }
  }

  tableRoots(): string[] {
    return [...this.states.keys()];
  }

  // ---------------------------------------------------------------- prefetch, flush, refresh

  statesFor(root: string | undefined, syscall: string): MountState[] {
    if (root === undefined) return [...this.states.values()];
    const state = this.states.get(normalizeAbsolutePath(root));
    if (!state) {
      throw new MountError(
        "ENOENT",
        `${root} is not a mount root; mounted roots: ${[...this.states.keys()].join(", ")}`,
        {
          path: root,
          syscall,
        },
      );
    }
    return [state];
  }

  async prefetch(root: string | undefined, options: PrefetchOptions): Promise<PrefetchResult> {
    await this.ready();
    const states = this.statesFor(root, "prefetch");
    const jobs: Array<{ state: MountState; slot: number; abs: string }> = [];
    for (const state of states) {
      for (const slot of state.stubs.liveSlotsUnder("")) {
        jobs.push({ state, slot, abs: this.absOf(state, state.stubs.path(slot)) });
      }
    }
    let done = 0;
    let bytes = 0;
    let files = 0;
    const failed: Array<{ path: string; error: unknown }> = [];
    await mapConcurrent(jobs, options.concurrency ?? this.config.concurrency, async (job) => {
      const size = job.state.stubs.size(job.slot);
      try {
        if (job.state.stubs.isLive(job.slot)) await this.hydrate(job.state, job.slot, job.abs);
        files++;
        bytes += size;
      } catch (error) {
        failed.push({ path: job.abs, error });
      }
      done++;
      options.onProgress?.({ root: job.state.root, done, total: jobs.length, bytes, path: job.abs });
    });
    return { files, bytes, failed };
  }

  async flush(root: string | undefined): Promise<void> {
    await this.ready();
    await this.flushStates(this.statesFor(root, "flush"));
  }

  /** Flushes the given mounts; rejects with EIO naming every write that still failed. */
  async flushStates(states: MountState[]): Promise<void> {
    const failures: Array<{ path: string; error: unknown }> = [];
    await Promise.all(
      states.map(async (state) => {
        if (!state.writeBack) return;
        for (const f of await state.writeBack.flush(this.config.concurrency)) {
          failures.push({ path: this.absOf(state, f.relPath), error: f.error });
        }
        await this.saveIndex(state);
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

  /** Saves a read-write lazy mount's listing as the provider now holds it (after acknowledged writes). */
  async saveIndex(state: MountState): Promise<void> {
    const mount = state.mount;
    if (!state.dirty || !mount || isEagerMount(mount)) return;
    const entries: MountEntry[] = [];
    for (const slot of state.stubs.liveSlotsUnder("")) entries.push(state.stubs.entry(slot));
    for (const abs of this.#memFilesUnder(state.root)) {
      const rel = this.#relIn(state, abs);
      if (state.writeBack?.has(rel) || state.localOnly.has(rel)) continue;
      const slot = state.stubs.find(rel);
      const st = this.vol.lstatSync(abs);
      if (!st.isFile()) continue;
      if (slot >= 0 && !state.modified.has(rel)) entries.push(state.stubs.entry(slot));
      else if (state.acked.has(rel) || slot >= 0)
        entries.push({ path: rel, size: st.size, mtime: st.mtimeMs });
    }
    await this.config.indexStore.save(this.#indexKey(state), {
      kind: mount.kind,
      entries,
      indexedAt: Date.now(),
    });
    state.dirty = false;
  }

  async refresh(root: string): Promise<RefreshResult> {
    await this.ready();
    const [state] = this.statesFor(root, "refresh");
    const result = await this.#indexMount(state!, true);
    return result ?? { root: state!.root, added: [], changed: [], deleted: [], kept: [], conflicts: [] };
  }

  async #applyRefresh(state: MountState, entries: MountEntry[]): Promise<RefreshResult> {
    const old = state.stubs;
    const next = new StubTable(entries);
    const added: string[] = [];
    const changed: string[] = [];
    const deleted: string[] = [];
    const kept: string[] = [];
    const conflicts: MountConflict[] = [];
    const seen = new Set<string>();
    const abs = (rel: string): string => this.absOf(state, rel);
    const pending = (rel: string): boolean => state.writeBack?.has(rel) === true;
    const memFile = (rel: string): FileStats | undefined => {
      try {
        const st = this.vol.lstatSync(abs(rel));
        return st.isFile() ? st : undefined;
      } catch {
        return undefined;
      }
    };
    const decisions: Array<() => void> = [];
    const report = async (
      rel: string,
      up: MountEntry | undefined,
      base: MountEntry | undefined,
    ): Promise<void> => {
      const st = memFile(rel);
      const conflict: MountConflict = {
        kind: "refresh",
        root: state.root,
        relPath: rel,
        path: abs(rel),
        local: st ? { exists: true, size: st.size, mtimeMs: st.mtimeMs } : { exists: false },
        remote: side(up),
      };
      void base;
      conflicts.push(conflict);
      await this.conflict(conflict);
    };
    for (let slot = 0; slot < next.length; slot++) {
      const up = next.entry(slot);
      const rel = up.path;
      seen.add(rel);
      const oldSlot = old.find(rel);
      const base = oldSlot >= 0 ? old.entry(oldSlot) : undefined;
      const local = memFile(rel);
      if (pending(rel)) {
        kept.push(abs(rel));
        if (!base || !sameVersion(base, up)) await report(rel, up, base);
        decisions.push(() => next.kill(slot));
        continue;
      }
      if (local) {
        const upstreamKnown = (base !== undefined && !state.modified.has(rel)) || state.acked.has(rel);
        if (!upstreamKnown) {
          // Local-only content (an exec change under a read-only mount): keep it.
          kept.push(abs(rel));
          if (!base || !sameVersion(base, up)) await report(rel, up, base);
          decisions.push(() => next.kill(slot));
          continue;
        }
        const ours = state.acked.has(rel)
          ? state.acked.get(rel) === up.size
          : base !== undefined && sameVersion(base, up);
        if (ours) {
          decisions.push(() => next.kill(slot));
        } else {
          changed.push(abs(rel));
          decisions.push(() => {
            this.vol.unlinkSync(abs(rel));
            state.modified.delete(rel);
            state.acked.delete(rel);
          });
        }
        continue;
      }
      if (state.localOnly.has(rel)) {
        // Deleted locally by an exec under a read-only mount: stays deleted.
        decisions.push(() => next.kill(slot));
        continue;
      }
      if (oldSlot >= 0 && old.isLive(oldSlot)) {
        if (!sameVersion(base!, up)) changed.push(abs(rel));
      } else {
        added.push(abs(rel));
      }
    }
    // Paths that disappeared upstream.
    for (const slot of old.liveSlotsUnder("")) {
      const rel = old.path(slot);
      if (!seen.has(rel)) deleted.push(abs(rel));
    }
    for (const fileAbs of this.#memFilesUnder(state.root)) {
      const rel = this.#relIn(state, fileAbs);
      if (seen.has(rel)) continue;
      if (pending(rel)) {
        const oldSlot = old.find(rel);
        if (oldSlot >= 0 || state.acked.has(rel)) {
          kept.push(fileAbs);
          await report(rel, undefined, oldSlot >= 0 ? old.entry(oldSlot) : undefined);
        }
        continue;
      }
      const upstreamKnown = (old.find(rel) >= 0 && !state.modified.has(rel)) || state.acked.has(rel);
      if (upstreamKnown) {
        deleted.push(fileAbs);
        decisions.push(() => {
          this.vol.unlinkSync(fileAbs);
          state.modified.delete(rel);
          state.acked.delete(rel);
        });
      }
    }
    for (const decide of decisions) decide();
    state.stubs = next;
    if (state.type === "file") state.filePath = entries[0]?.path ?? state.filePath;
    for (const rel of [...state.modified])
      if (!pending(rel) && !state.localOnly.has(rel)) state.modified.delete(rel);
    state.quota = new QuotaCounter(state.options, state.root, this.#memUsage(state));
    return { root: state.root, added, changed, deleted, kept, conflicts };
  }

  async #applyEagerRefresh(
    state: MountState,
    files: Map<string, { bytes: Uint8Array; mode: number | undefined }>,
  ): Promise<RefreshResult> {
    const added: string[] = [];
    const changed: string[] = [];
    const deleted: string[] = [];
    const kept: string[] = [];
    const conflicts: MountConflict[] = [];
    const abs = (rel: string): string => (rel === "" ? state.root : `${state.root}/${rel}`);
    for (const [rel, file] of files) {
      const path = abs(rel);
      let current: Buffer | undefined;
      try {
        current = this.vol.readFileSync(path);
      } catch {
        current = undefined;
      }
      const same = current !== undefined && Buffer.compare(current, file.bytes) === 0;
      if (state.writeBack?.has(rel) || state.localOnly.has(rel)) {
        kept.push(path);
        if (!same) {
          const conflict: MountConflict = {
            kind: "refresh",
            root: state.root,
            relPath: rel,
            path,
            local: current ? { exists: true, size: current.length } : { exists: false },
            remote: { exists: true, size: file.bytes.length },
          };
          conflicts.push(conflict);
          await this.conflict(conflict);
        }
        continue;
      }
      if (same) continue;
      (current ? changed : added).push(path);
      this.#writeMem(path, file.bytes, file.mode);
    }
    for (const fileAbs of this.#memFilesUnder(state.root)) {
      const rel = this.#relIn(state, fileAbs);
      if (files.has(rel) || state.writeBack?.has(rel) || state.localOnly.has(rel)) continue;
      deleted.push(fileAbs);
      this.vol.unlinkSync(fileAbs);
    }
    return { root: state.root, added, changed, deleted, kept, conflicts };
  }

  // ---------------------------------------------------------------- unmount and close

  async unmount(root: string): Promise<void> {
    const normalized = normalizeAbsolutePath(root);
    const state = this.states.get(normalized);
    if (!state) {
      throw new MountError(
        "ENOENT",
        `${root} is not a mount root; mounted roots: ${[...this.states.keys()].join(", ") || "none"}`,
        { path: root, syscall: "unmount" },
      );
    }
    if (this.#indexing) await this.#indexing.catch(() => undefined);
    if (state.phase === "ready" && state.writeBack) await this.flushStates([state]);
    await this.#dispose(state);
    this.states.delete(normalized);
    this.#table.remove(normalized);
    if (state.phase === "ready") {
      if (state.type === "file") this.vol.rmSync(normalized, { force: true });
      else this.vol.rmSync(normalized, { recursive: true, force: true });
    }
  }

  async #dispose(state: MountState): Promise<void> {
    state.writeBack?.stopTimers();
    try {
      await state.mount?.dispose?.();
    } catch (error) {
      this.config.emit("error", { root: state.root, op: "dispose", error });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    let flushError: unknown;
    if (this.#indexing) await this.#indexing.catch(() => undefined);
    const ready = [...this.states.values()].filter((s) => s.phase === "ready");
    try {
      await this.flushStates(ready);
    } catch (error) {
      flushError = error;
    }
    this.closed = true;
    for (const state of this.states.values()) await this.#dispose(state);
    if (flushError) throw flushError;
  }

  /** Conflict sides for exec: the current VFS facts of a path. */
  localSide(path: string): ConflictSide {
    return this.#localSide(path);
  }
}
