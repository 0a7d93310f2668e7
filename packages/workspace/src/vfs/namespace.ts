import {
  baseName,
  compileIgnore,
  type IgnoreMatcher,
  MountError,
  normalizeAbsolutePath,
  parentPath,
  QuotaCounter,
  type QuotaUsage,
  relativeToRoot,
} from "@ws/core";
import type { FileStats, MemVol } from "../mem-vol.js";
import { memMayHave, writeMemFile } from "../mem-vol.js";
import type { MountRecord, Registry } from "../runtime/registry.js";
import { StubTable } from "../stub-table.js";
import { VirtualStats, WorkspaceDirent } from "../virtual-stats.js";
import type { ConflictSide } from "../workspace-options.js";
import { fsError } from "./fs-errors.js";
import { realPath } from "./real-path.js";

const EMPTY_TABLE = new StubTable([]);

/**
 * What the namespace holds of one mount: its stubs (lazy files not yet in memfs), the provider's
 * name of a file mount's one file, and its quota counter. Replaced as a whole by the indexer.
 */
export class MountView {
  readonly record: MountRecord;
  #stubs: StubTable = EMPTY_TABLE;
  #filePath: string | undefined;
  #quota: QuotaCounter;

  constructor(record: MountRecord) {
    this.record = record;
    this.#quota = new QuotaCounter({}, record.root);
  }

  get root(): string {
    return this.record.root;
  }
  get stubs(): StubTable {
    return this.#stubs;
  }
  /** A file mount's own name for its one file (what fetch/put/delete receive). */
  get filePath(): string | undefined {
    return this.#filePath;
  }
  get quota(): QuotaCounter {
    return this.#quota;
  }

  /** A new listing: its stubs (none for an eager mount) and, for a file mount, its file's name. */
  setStubs(stubs: StubTable | undefined, filePath?: string | undefined): void {
    this.#stubs = stubs ?? EMPTY_TABLE;
    if (this.record.type === "file") this.#filePath = filePath ?? this.#filePath;
  }

  setQuota(usage: QuotaUsage): void {
    this.#quota = new QuotaCounter(this.record.options, this.record.root, usage);
  }

  /** Workspace path of a path relative to the root. */
  absOf(rel: string): string {
    return this.record.type === "file" ? this.record.root : `${this.record.root}/${rel}`;
  }

  /** Path relative to the root of a workspace path under it. */
  relOf(abs: string): string {
    if (this.record.type === "file") return this.#filePath ?? baseName(this.record.root);
    return relativeToRoot(this.record.root, abs) ?? "";
  }
}

/** A path resolved to its owner: the mount it belongs to (if any) and its path there. */
export interface Resolved {
  readonly path: string;
  readonly view: MountView | undefined;
  /** Relative to the owning mount's root; for a file mount, the provider's name of the file. */
  readonly rel: string;
}

export type Kind =
  | { readonly type: "file" | "directory" | "symlink"; readonly stats: FileStats }
  | { readonly type: "stub"; readonly view: MountView; readonly slot: number }
  | { readonly type: "vdir" }
  | undefined;

export type EntryType = "file" | "directory" | "symlink";

function hashIno(path: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) {
    h ^= path.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) + 0x100000000;
}

/**
 * Path → owner and kind, over memfs (files written or hydrated), stub tables (listed, not yet
 * fetched) and mount roots (always directories). Answers every question about what is at a path
 * without fetching; owns the per-mount views.
 */
export class Namespace {
  readonly #vol: MemVol;
  readonly #registry: Registry;
  readonly #views = new Map<string, MountView>();
  readonly #wsIgnore: IgnoreMatcher;
  /** Symlinks ever made in memfs: while there are none, a path is its own real path. */
  #links = 0;

  constructor(vol: MemVol, registry: Registry, ignore: readonly string[]) {
    this.#vol = vol;
    this.#registry = registry;
    this.#wsIgnore = compileIgnore(ignore);
  }

  addView(record: MountRecord): MountView {
    const view = new MountView(record);
    this.#views.set(record.root, view);
    return view;
  }

  removeView(root: string): void {
    this.#views.delete(root);
  }

  view(root: string): MountView | undefined {
    return this.#views.get(root);
  }

  /**
   * A path resolved to its owner, decided on the real path: symlinks in its directories (and in
   * its last component with `followLast`, as `open`, `stat` and `chmod` do) are followed first,
   * so a link can never lead a call around a mount's rules.
   */
  resolve(path: string, followLast = false): Resolved {
    if (typeof path !== "string") {
      throw new MountError("EINVAL", `path must be a string, got ${typeof path}`, { path: String(path) });
    }
    const given = normalizeAbsolutePath(path);
    const abs = this.#links === 0 ? given : realPath(this.#vol, given, followLast);
    const owner = this.#registry.owner(abs);
    if (!owner) return { path: abs, view: undefined, rel: abs.slice(1) };
    const view = this.#views.get(owner.value.root)!;
    const rel = view.record.type === "file" ? (view.filePath ?? baseName(view.root)) : owner.relPath;
    return { path: abs, view, rel };
  }

  /** A mount root is at `abs`, or below it. */
  holdsMountRoot(abs: string): boolean {
    return this.#registry.has(abs) || this.#registry.rootsUnder(abs).length > 0;
  }

  isIgnored(r: Resolved): boolean {
    if (r.view) return r.path !== r.view.root && r.view.record.ignore(r.rel);
    return r.rel !== "" && this.#wsIgnore(r.rel);
  }

  /** What is at a path: a memfs node, a stub, a virtual directory, or nothing. */
  kind(r: Resolved, follow = false): Kind {
    if (this.isIgnored(r)) return undefined;
    // A stub is not in memfs: ask without an exception first (see memMayHave).
    if (memMayHave(this.#vol, r.path, follow)) {
      try {
        const stats = follow ? this.#vol.statSync(r.path) : this.#vol.lstatSync(r.path);
        const type = stats.isSymbolicLink() ? "symlink" : stats.isDirectory() ? "directory" : "file";
        return { type, stats };
      } catch {
        // not in memfs
      }
    }
    const view = r.view;
    if (view) {
      if (view.record.type === "file") {
        const slot = view.stubs.findLive(r.rel);
        return slot >= 0 ? { type: "stub", view, slot } : undefined;
      }
      if (r.rel === "") return { type: "vdir" };
      const slot = view.stubs.findLive(r.rel);
      if (slot >= 0) return { type: "stub", view, slot };
      if (view.stubs.hasDir(r.rel)) return { type: "vdir" };
    }
    for (const root of this.#registry.rootsUnder(r.path)) {
      const record = this.#registry.get(root);
      if (record?.type === "directory" || (record && this.kind(this.resolve(root)) !== undefined))
        return { type: "vdir" };
    }
    return undefined;
  }

  /** True when a file, symlink or stub (not a directory) is at `path`. */
  isFileAt(path: string): boolean {
    const k = this.kind(this.resolve(path));
    return k !== undefined && k.type !== "directory" && k.type !== "vdir";
  }

  /** Some directory of `path` is a file (or a stub, or a link to one): Node says ENOTDIR. */
  underFile(path: string): boolean {
    try {
      let p = parentPath(normalizeAbsolutePath(path));
      while (p !== "/") {
        const k = this.kind(this.resolve(p, true), true);
        if (k && k.type !== "directory" && k.type !== "vdir") return true;
        p = parentPath(p);
      }
    } catch {
      // ELOOP and the like: not our question.
    }
    return false;
  }

  exists(path: string): boolean {
    try {
      return this.kind(this.resolve(path, true), true) !== undefined;
    } catch {
      return false;
    }
  }

  stat(path: string, follow: boolean): FileStats {
    const r = this.resolve(path, follow);
    const syscall = follow ? "stat" : "lstat";
    const k = this.kind(r, follow);
    if (!k) throw fsError("ENOENT", syscall, r.path);
    if (k.type === "stub") return this.#stubStats(k.view, k.slot, r.path);
    if (k.type === "vdir") {
      return new VirtualStats("directory", 0, r.view?.record.indexedAt ?? 0, 0o755, hashIno(r.path));
    }
    return k.stats;
  }

  #stubStats(view: MountView, slot: number, abs: string): VirtualStats {
    const mtime = view.stubs.mtime(slot);
    const mode = view.stubs.mode(slot);
    return new VirtualStats(
      "file",
      view.stubs.size(slot),
      Number.isNaN(mtime) ? view.record.indexedAt : mtime,
      mode === 0 ? 0o644 : mode,
      hashIno(abs),
    );
  }

  /** Merged listing of memfs, stubs and mount roots, sorted by name, ignored names left out. */
  readdir(path: string): Array<{ name: string; type: EntryType }> {
    const r = this.resolve(path, true);
    const k = this.kind(r, true);
    if (!k) throw fsError("ENOENT", "scandir", r.path);
    if (k.type !== "directory" && k.type !== "vdir") throw fsError("ENOTDIR", "scandir", r.path);
    const out = new Map<string, EntryType>();
    if (k.type === "directory") {
      for (const d of this.#vol.readdirSync(r.path, { withFileTypes: true })) {
        out.set(String(d.name), d.isDirectory() ? "directory" : d.isSymbolicLink() ? "symlink" : "file");
      }
    }
    const view = r.view;
    if (view && view.record.type === "directory") {
      for (const name of view.stubs.fileNames(r.rel)) if (!out.has(name)) out.set(name, "file");
      for (const name of view.stubs.dirNames(r.rel)) if (!out.has(name)) out.set(name, "directory");
    }
    const prefix = r.path === "/" ? "/" : `${r.path}/`;
    for (const root of this.#registry.rootsUnder(r.path)) {
      const rest = root.slice(prefix.length);
      const slash = rest.indexOf("/");
      const name = slash < 0 ? rest : rest.slice(0, slash);
      if (out.has(name)) continue;
      if (slash < 0 && this.#registry.get(root)?.type === "file") {
        if (this.kind(this.resolve(root)) !== undefined) out.set(name, "file");
      } else {
        out.set(name, "directory");
      }
    }
    // Ignored names never reach memfs or the stub table; filter anyway for roots' parents.
    const result: Array<{ name: string; type: EntryType }> = [];
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

  /** Every entry under `path`, breadth first as Node 20's `readdir(path, { recursive: true })`. */
  readdirRecursive(path: string): Array<WorkspaceDirent & { readonly relative: string }> {
    const top = normalizeAbsolutePath(path);
    const out: Array<WorkspaceDirent & { readonly relative: string }> = [];
    const queue: Array<{ abs: string; rel: string }> = [{ abs: top, rel: "" }];
    for (let i = 0; i < queue.length; i++) {
      const { abs, rel } = queue[i]!;
      for (const e of this.readdir(abs)) {
        const relative = rel === "" ? e.name : `${rel}/${e.name}`;
        const dirent = Object.assign(new WorkspaceDirent(e.name, abs, e.type), { relative });
        out.push(dirent);
        if (e.type === "directory")
          queue.push({ abs: abs === "/" ? `/${e.name}` : `${abs}/${e.name}`, rel: relative });
      }
    }
    return out;
  }

  readlink(path: string): string {
    const r = this.resolve(path);
    const k = this.kind(r);
    if (!k) throw fsError("ENOENT", "readlink", r.path);
    if (k.type !== "symlink") throw fsError("EINVAL", "readlink", r.path);
    return this.#vol.readlinkSync(r.path);
  }

  realpath(path: string): string {
    const r = this.resolve(path, true);
    const k = this.kind(r, true);
    if (!k) throw fsError("ENOENT", "realpath", r.path);
    if (k.type === "stub" || k.type === "vdir") return r.path;
    return this.#vol.realpathSync(r.path);
  }

  /** Conflict side of a path: its current VFS facts, without reading bytes. */
  localSide(path: string): ConflictSide {
    try {
      const st = this.#vol.statSync(path);
      return { exists: true, size: st.size, mtimeMs: st.mtimeMs };
    } catch {
      return { exists: false };
    }
  }

  // ------------------------------------------------------------ memfs primitives (no policy)

  /** Makes a symlink in memfs (every link goes through here, so resolve knows links exist). */
  symlinkMem(target: string, abs: string): void {
    this.#links++;
    this.#vol.symlinkSync(target, abs);
  }

  /** A memfs node's permission bits, or undefined when there is none. */
  modeOf(abs: string): number | undefined {
    try {
      return Number(this.#vol.lstatSync(abs).mode) & 0o7777;
    } catch {
      return undefined;
    }
  }

  /** Sets a node's permission bits (host access: modes are metadata, never a lock against the host). */
  chmodMem(abs: string, mode: number): void {
    this.#vol.chmodSync(abs, mode & 0o7777);
  }

  mkdirp(absDir: string): void {
    if (absDir === "/") return;
    // 0o755: 0o777 less the default umask, as on a host (memfs would make them 0o777).
    this.#vol.mkdirSync(absDir, { recursive: true, mode: 0o755 });
  }

  /**
   * `adopt`: `bytes` is exclusively ours and never used again (a LazyMount `fetch` result), so memfs
   * may keep it as the file's content instead of copying it (see writeMemFile).
   */
  writeMem(abs: string, bytes: Uint8Array, mode?: number, adopt = false): void {
    this.mkdirp(parentPath(abs));
    writeMemFile(this.#vol, abs, bytes, mode, adopt);
    if (mode !== undefined) this.#vol.chmodSync(abs, mode);
  }

  /** Absolute paths of memfs files and symlinks under `absDir` (itself, if it is a file). */
  memFilesUnder(absDir: string): string[] {
    const out: string[] = [];
    let top: FileStats;
    try {
      top = this.#vol.lstatSync(absDir);
    } catch {
      return out;
    }
    if (!top.isDirectory()) return [absDir];
    const walk = (dir: string): void => {
      for (const d of this.#vol.readdirSync(dir, { withFileTypes: true })) {
        const p = dir === "/" ? `/${String(d.name)}` : `${dir}/${String(d.name)}`;
        if (d.isDirectory()) walk(p);
        else out.push(p);
      }
    };
    walk(absDir);
    return out;
  }

  /** Absolute paths of memfs directories under `absDir`, itself included, deepest first. */
  memDirsUnder(absDir: string): string[] {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const d of this.#vol.readdirSync(dir, { withFileTypes: true })) {
        if (d.isDirectory()) walk(dir === "/" ? `/${String(d.name)}` : `${dir}/${String(d.name)}`);
      }
      out.push(dir);
    };
    try {
      if (this.#vol.lstatSync(absDir).isDirectory()) walk(absDir);
    } catch {
      // gone
    }
    return out;
  }

  /** memfs file (not symlink, not directory) stats at `abs`, or undefined. */
  memFile(abs: string): FileStats | undefined {
    if (!memMayHave(this.#vol, abs, false)) return undefined;
    try {
      const st = this.#vol.lstatSync(abs);
      return st.isFile() ? st : undefined;
    } catch {
      return undefined;
    }
  }

  /** Bytes held in memfs for `abs` (following links), or undefined. */
  memBytes(abs: string): Buffer | undefined {
    try {
      return this.#vol.readFileSync(abs);
    } catch {
      return undefined;
    }
  }

  /** Files and bytes under a mount's root: memfs files plus live stubs. */
  usage(view: MountView): QuotaUsage {
    let bytes = 0;
    let entries = 0;
    for (const abs of this.memFilesUnder(view.root)) {
      bytes += this.#vol.lstatSync(abs).size;
      entries++;
    }
    return { bytes: bytes + view.stubs.liveBytes, entries: entries + view.stubs.liveCount };
  }

  /** Recounts a view's quota from what is under its root now. */
  recount(view: MountView): void {
    view.setQuota(this.usage(view));
  }
}
