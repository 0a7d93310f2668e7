import { MountError, parentPath, readOnly, relativeToRoot } from "@ws/core";
import type { PinSet } from "../hydrate/content-cache.js";
import type { Hydrator } from "../hydrate/hydrator.js";
import type { MemVol } from "../mem-vol.js";
import type { Mirror } from "../mirror/mirror.js";
import type { Registry } from "../runtime/registry.js";
import { fsError, toFsError } from "./fs-errors.js";
import type { Kind, MountView, Namespace, Resolved } from "./namespace.js";
import { renameOver } from "./rename.js";

const W_OK = 2;

export interface WriteOptions {
  mode?: number | undefined;
  append?: boolean;
  encoding?: BufferEncoding | undefined;
  flag?: string;
}

export interface PosixParts {
  readonly registry: Registry;
  readonly ns: Namespace;
  readonly vol: MemVol;
  readonly hydrator: Hydrator;
  readonly mirror: (root: string) => Mirror;
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

/**
 * The POSIX operations of `ws.fs` over the namespace, the hydrator and the mirrors: every check
 * (EROFS, ignore, quota, kinds) before the VFS changes, then the mirror hears about it.
 */
export class Posix {
  readonly #p: PosixParts;

  constructor(parts: PosixParts) {
    this.#p = parts;
  }

  /** Throws EROFS when `r` belongs to a read-only mount. */
  assertWritable(r: Resolved, syscall: string): void {
    if (r.view && !r.view.record.writable) throw readOnly(r.path, r.view.root, syscall);
  }

  assertNotIgnored(r: Resolved, syscall: string): void {
    // A name no provider (and no POSIX file system) can store fails now, not at every later flush.
    for (const segment of r.path.split("/")) {
      if (Buffer.byteLength(segment) > 255) {
        throw fsError("ENAMETOOLONG", syscall, r.path);
      }
    }
    if (this.#p.ns.isIgnored(r)) {
      throw new MountError(
        "EINVAL",
        `${r.path} is hidden by an ignore pattern; ignored paths cannot be written (remove the pattern to write it), ${syscall} '${r.path}'`,
        { path: r.path, root: r.view?.root, syscall },
      );
    }
  }

  /** Makes sure the parent directory exists (creating memfs dirs for virtual ones). */
  prepareParent(r: Resolved, syscall: string): void {
    const { ns } = this.#p;
    const parent = ns.resolve(parentPath(r.path));
    const k = ns.kind(parent, true);
    if (!k) throw fsError("ENOENT", syscall, r.path);
    if (k.type === "vdir") ns.mkdirp(parent.path);
    else if (k.type !== "directory") throw fsError("ENOTDIR", syscall, r.path);
  }

  /** A local change of `rel` under `view`: the mirror remembers it and writes it back. */
  changed(view: MountView | undefined, rel: string): void {
    if (view) this.#p.mirror(view.root).changed(rel);
  }

  async readFile(path: string): Promise<Buffer> {
    const pins = this.#p.hydrator.pins();
    try {
      // A stub too large to keep (`cache.maxFileBytes`, the budget) comes back as its bytes as
      // fetched, not kept: one copy, no eviction storm.
      const r = await this.#p.hydrator.materializeOrHandOver(path, "open", pins);
      if (Buffer.isBuffer(r)) return r;
      try {
        return this.#p.vol.readFileSync(r.path);
      } catch (error) {
        throw toFsError(error, r.path, "open");
      }
    } finally {
      pins.release();
    }
  }

  /** `F_OK`, `R_OK`, `X_OK` check existence; `W_OK` also fails with `EROFS` under a read-only mount. */
  access(path: string, mode: number): void {
    const r = this.#p.ns.resolve(path, true);
    if (!this.#p.ns.kind(r, true)) throw fsError("ENOENT", "access", r.path);
    if (mode & W_OK) this.assertWritable(r, "access");
  }

  /** Copies bytes and mode. `flags & COPYFILE_EXCL` (1) refuses an existing destination. */
  async copyFile(src: string, dest: string, flags: number): Promise<void> {
    // A missing or unreadable source fails as Node's copyfile, not as an open.
    const pins = this.#p.hydrator.pins();
    try {
      await this.#p.hydrator.materializeFile(src, "copyfile", pins);
    } finally {
      pins.release();
    }
    const bytes = await this.readFile(src);
    const mode = this.#p.ns.stat(src, true).mode & 0o7777;
    await this.writeFile(dest, bytes, { mode, ...(flags & 1 ? { flag: "wx" } : {}) });
  }

  /** Writes (or appends) a file: checks, quota, VFS, then schedules the provider write. */
  async writeFile(path: string, data: string | Uint8Array, options: WriteOptions): Promise<void> {
    const { ns, vol, hydrator } = this.#p;
    const syscall = "open";
    let r = ns.resolve(path, true);
    this.assertNotIgnored(r, syscall);
    this.assertWritable(r, syscall);
    let k = ns.kind(r, true);
    // Appending to a stub hydrates it; it is held (content budget) until the append is in.
    const pins = hydrator.pins();
    try {
      if (k?.type === "stub" && (options.append || options.flag?.startsWith("a"))) {
        await hydrator.hydrate(k.view, k.slot, r.path, pins);
        r = ns.resolve(path, true);
        k = ns.kind(r, true);
      }
      if (k && (k.type === "directory" || k.type === "vdir")) throw fsError("EISDIR", syscall, r.path);
      if (k && options.flag?.includes("x")) throw fsError("EEXIST", syscall, r.path);
      const bytes = toBytes(data, r.path, options.encoding);
      const append = options.append || options.flag?.startsWith("a");
      const oldSize = k ? (k.type === "stub" ? k.view.stubs.size(k.slot) : k.stats.size) : -1;
      const newSize = append && oldSize >= 0 ? oldSize + bytes.length : bytes.length;
      this.prepareParent(r, syscall);
      const view = r.view;
      if (view) {
        if (oldSize >= 0) view.quota.replace(oldSize, newSize, r.path);
        else view.quota.add(newSize, r.path);
      }
      try {
        if (append && k && k.type !== "stub") {
          const old = vol.readFileSync(r.path);
          vol.writeFileSync(r.path, Buffer.concat([old, bytes]));
        } else {
          // A new file gets 0o644 (0o666 less the default umask, as Node's writeFile on a host), not memfs's 0o666.
          const mode =
            options.mode ?? (k?.type === "stub" ? k.view.stubs.mode(k.slot) || 0o644 : k ? undefined : 0o644);
          vol.writeFileSync(r.path, bytes, mode ? { mode } : {});
        }
      } catch (error) {
        if (view) {
          // Undo the quota reservation: nothing was written.
          if (oldSize >= 0) view.quota.replace(newSize, oldSize);
          else view.quota.remove(newSize);
        }
        throw toFsError(error, r.path, syscall);
      }
      if (k?.type === "stub") k.view.stubs.kill(k.slot);
      this.changed(view, r.rel);
    } finally {
      pins.release();
    }
  }

  mkdir(path: string, options: { recursive?: boolean; mode?: number }): string | undefined {
    const { ns, vol } = this.#p;
    const r = ns.resolve(path);
    this.assertNotIgnored(r, "mkdir");
    const k = ns.kind(r, true);
    if (k) {
      if (options.recursive && (k.type === "directory" || k.type === "vdir")) return undefined;
      throw fsError("EEXIST", "mkdir", r.path);
    }
    // Every missing directory from the top down; each must be writable.
    const missing: Resolved[] = [r];
    for (let p = parentPath(r.path); p !== "/"; p = parentPath(p)) {
      const pr = ns.resolve(p);
      const pk = ns.kind(pr, true);
      if (pk) {
        if (pk.type !== "directory" && pk.type !== "vdir") throw fsError("ENOTDIR", "mkdir", r.path);
        break;
      }
      if (!options.recursive) throw fsError("ENOENT", "mkdir", r.path);
      missing.push(pr);
    }
    for (const m of missing) this.assertWritable(m, "mkdir");
    // Virtual parents become real memfs directories; mkdir touches the VFS only (seed table).
    ns.mkdirp(parentPath(r.path));
    try {
      vol.mkdirSync(r.path, { mode: options.mode ?? 0o755 });
    } catch (error) {
      throw toFsError(error, r.path, "mkdir");
    }
    // Mounts that keep empty folders (directory markers) hear of each folder made.
    for (const m of missing) this.folderChanged(m);
    return options.recursive ? missing[missing.length - 1]!.path : undefined;
  }

  /** Removes one file (memfs file, symlink or stub) and schedules the provider delete. */
  removeFile(r: Resolved, k: NonNullable<Kind>): void {
    if (k.type === "stub") {
      k.view.quota.remove(k.view.stubs.size(k.slot));
      k.view.stubs.kill(k.slot);
    } else {
      const size = k.type === "symlink" ? 0 : (k as { stats: { size: number } }).stats.size;
      this.#p.vol.unlinkSync(r.path);
      if (r.view && k.type !== "symlink") r.view.quota.remove(size);
    }
    this.changed(r.view, r.rel);
  }

  unlink(path: string): void {
    const r = this.#p.ns.resolve(path);
    const k = this.#p.ns.kind(r);
    if (!k) throw fsError("ENOENT", "unlink", r.path);
    if (k.type === "directory" || k.type === "vdir") throw fsError("EISDIR", "unlink", r.path);
    this.assertWritable(r, "unlink");
    this.removeFile(r, k);
  }

  rmdir(path: string): void {
    const { ns, vol, registry } = this.#p;
    const r = ns.resolve(path);
    const k = ns.kind(r);
    if (!k) throw fsError("ENOENT", "rmdir", r.path);
    if (k.type !== "directory" && k.type !== "vdir") throw fsError("ENOTDIR", "rmdir", r.path);
    if (registry.has(r.path)) throw fsError("EBUSY", "rmdir", r.path, "it is a mount root");
    this.assertWritable(r, "rmdir");
    if (ns.readdir(r.path).length > 0) throw fsError("ENOTEMPTY", "rmdir", r.path);
    if (k.type === "directory") vol.rmdirSync(r.path);
    this.folderChanged(r);
  }

  /** A folder made or removed under a mount that keeps folders (directory markers). */
  folderChanged(r: Resolved): void {
    if (r.view && r.rel !== "" && this.#p.mirror(r.view.root).keepsFolders) this.changed(r.view, r.rel);
  }

  rm(path: string, options: { recursive?: boolean; force?: boolean }): void {
    const { ns, vol, registry } = this.#p;
    const r = ns.resolve(path);
    const k = ns.kind(r);
    if (!k) {
      if (options.force) return;
      throw fsError("ENOENT", "lstat", r.path);
    }
    if (k.type !== "directory" && k.type !== "vdir") {
      this.assertWritable(r, "rm");
      this.removeFile(r, k);
      return;
    }
    if (!options.recursive)
      throw fsError("EISDIR", "rm", r.path, "use { recursive: true } to remove a directory");
    // Check everything before removing anything: a read-only mount anywhere below refuses the rm.
    this.assertWritable(r, "rm");
    const inner = registry.rootsUnder(r.path).map((root) => ns.view(root)!);
    for (const v of inner) if (!v.record.writable) throw readOnly(r.path, v.root, "rm");
    // Stubs of the owning mount under this directory, and of every mount below it.
    const stubTargets: Array<[MountView, string]> = [];
    if (r.view?.record.type === "directory") stubTargets.push([r.view, r.rel]);
    for (const v of inner) if (v.record.type === "directory") stubTargets.push([v, ""]);
    for (const [v, relDir] of stubTargets) {
      for (const slot of [...v.stubs.liveSlotsUnder(relDir)]) {
        const rel = v.stubs.path(slot);
        v.quota.remove(v.stubs.size(slot));
        v.stubs.kill(slot);
        this.changed(v, rel);
      }
    }
    for (const v of inner) {
      if (v.record.type === "file") {
        const fr = ns.resolve(v.root);
        const fk = ns.kind(fr);
        if (fk?.type === "stub") this.removeFile(fr, fk);
      }
    }
    for (const abs of ns.memFilesUnder(r.path)) {
      const fr = ns.resolve(abs);
      const fk = ns.kind(fr);
      if (fk) this.removeFile(fr, fk);
    }
    if (k.type === "directory")
      for (const abs of ns.memDirsUnder(r.path)) this.folderChanged(ns.resolve(abs));
    if (k.type === "directory") vol.rmSync(r.path, { recursive: true, force: true });
    // Mount roots below stay: a mount root always exists while the mount does.
  }

  async rename(from: string, to: string): Promise<void> {
    const { ns, registry } = this.#p;
    const src = ns.resolve(from);
    const dst = ns.resolve(to);
    const sk = ns.kind(src);
    if (!sk) throw fsError("ENOENT", "rename", src.path);
    this.assertNotIgnored(dst, "rename");
    this.assertWritable(src, "rename");
    this.assertWritable(dst, "rename");
    if (src.path === dst.path) return;
    if (registry.has(src.path) || registry.has(dst.path)) {
      throw fsError("EBUSY", "rename", src.path, "a mount root cannot be renamed");
    }
    if (registry.rootsUnder(src.path).length > 0) {
      throw fsError("EBUSY", "rename", src.path, "it contains a mount root");
    }
    if (relativeToRoot(src.path, dst.path) !== undefined) throw fsError("EINVAL", "rename", src.path);
    await renameOver(this.#p, this, src, sk, dst);
  }

  /**
   * `readlink`. Under a mount that stores links, a stub may be one (an object-store listing cannot
   * tell a link from a file): it is read first, then answered as Node would.
   */
  async readlink(path: string): Promise<string> {
    const { ns, hydrator } = this.#p;
    const r = ns.resolve(path);
    const k = ns.kind(r);
    if (k?.type === "stub" && k.view.record.mount?.symlinks === true) {
      await hydrator.hydrate(k.view, k.slot, r.path);
    }
    return ns.readlink(path);
  }

  async chmod(path: string, mode: number): Promise<void> {
    const pins = this.#p.hydrator.pins();
    try {
      const r = await this.#metadataTarget(path, "chmod", pins);
      this.#p.vol.chmodSync(r.path, mode);
      // The mode is metadata the mount keeps: a file is written back with it, a folder's marker too
      // (where the mount keeps folders). A link's own mode is not stored (chmod follows the link).
      const k = this.#p.ns.kind(r, true);
      if (!r.view || r.rel === "" || !r.view.record.writable) return;
      if (k?.type === "file") this.changed(r.view, r.rel);
      else if (k?.type === "directory") this.folderChanged(r);
    } finally {
      pins.release();
    }
  }

  async utimes(path: string, atime: number | Date, mtime: number | Date): Promise<void> {
    const pins = this.#p.hydrator.pins();
    try {
      const r = await this.#metadataTarget(path, "utime", pins);
      this.#p.vol.utimesSync(r.path, atime, mtime);
    } finally {
      pins.release();
    }
  }

  /** A writable path made a real memfs node, since metadata lives on memfs nodes, not stubs or virtual dirs. */
  async #metadataTarget(path: string, syscall: string, pins: PinSet): Promise<Resolved> {
    const { ns, hydrator } = this.#p;
    const r = ns.resolve(path, true);
    this.assertWritable(r, syscall);
    const k = ns.kind(r, true);
    if (!k) throw fsError("ENOENT", syscall, r.path);
    if (k.type === "stub") await hydrator.hydrate(k.view, k.slot, r.path, pins);
    if (ns.kind(r, true)?.type === "vdir") ns.mkdirp(r.path);
    return r;
  }

  /**
   * A link under a read-write mount that stores links (`symlinks: true`) is the user's own data,
   * as one a command makes: kept verbatim, whatever its target, and mirrored (`PutOptions.symlink`).
   * Under any other mount: `ENOTSUP`. Ownership is decided on real paths, so the link never leads
   * a later call around a mount's rules.
   */
  symlink(target: string, path: string): void {
    const { ns } = this.#p;
    const r = ns.resolve(path);
    this.assertNotIgnored(r, "symlink");
    this.assertWritable(r, "symlink");
    if (r.view && r.view.record.mount?.symlinks !== true) {
      throw fsError(
        "ENOTSUP",
        "symlink",
        r.path,
        `mount ${r.view.root} (${r.view.record.mount?.kind ?? "?"}) does not store symbolic links; a link could not be mirrored to it`,
      );
    }
    if (ns.kind(r)) throw fsError("EEXIST", "symlink", r.path);
    this.prepareParent(r, "symlink");
    ns.symlinkMem(target, r.path);
    this.changed(r.view, r.rel);
  }
}
