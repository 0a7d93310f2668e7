import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MountError, toMountError } from "@ws/core";
import { isRoot } from "../mem-vol.js";
import type { ExecChanges } from "../workspace-options.js";
import { mkdirConfined } from "./confine.js";
import { diff } from "./diff.js";
import type { ExecHost } from "./exec-host.js";
import {
  hydratedFrom,
  type Snap,
  sameSnap,
  snapOf,
  stubVersion,
  syncedVersion,
  versionOf,
} from "./materialise.js";
import { pullBack } from "./pull-back.js";

/** Where the lasting exec directory goes and whether `close()` leaves it. */
export interface ExecDirOptions {
  /** The directory itself (created if missing; must be empty). Default: a new one under `os.tmpdir()`. */
  readonly path?: string | undefined;
  /** Leave the directory in place at `close()`. Default false. */
  readonly keep?: boolean | undefined;
}

function hostSnap(hostPath: string): Snap | undefined {
  try {
    return snapOf(hostPath);
  } catch {
    return undefined;
  }
}

/** A directory's version in the VFS: its mode (folders are compared by mode only). */
function dirVersion(mode: number): string {
  return `d:${mode & 0o7777}`;
}

/**
 * The seed's container side as a lasting peer: one host directory per workspace, created at the
 * first `exec`, at a stable path until `close()`, kept in sync both ways.
 *
 * - `push` (before each command, and after each pull) writes only what changed in the VFS since the
 *   last sync: every synced path remembers the VFS version it was written from (`Snap.vfs`) and
 *   what the host file looked like right after (`Snap` itself). A path the host side changed since
 *   (a command still running) is left alone: the pull decides, and a VFS change of that path is
 *   then a conflict with the version the command started from.
 * - `pull` (after each command) walks the directory and takes only what differs from the last sync
 *   (by size, mtime, ctime, inode: unchanged files are never read).
 *
 * Concurrent commands share the directory (so `flock` and shared files behave as on one machine);
 * pushes and pulls run one at a time, and a pull takes everything changed since the last sync,
 * whoever changed it, so no pull overwrites another command's change with an older state.
 */
export class ExecDir {
  readonly #options: ExecDirOptions;
  #dir: string | undefined;
  #opening: Promise<string> | undefined;
  #keep: boolean;
  #closed = false;
  /** What each synced path looked like on the host right after the last sync, with its VFS version. */
  #snapshot = new Map<string, Snap>();
  #lock: Promise<unknown> = Promise.resolve();

  constructor(options: ExecDirOptions = {}) {
    this.#options = options;
    this.#keep = options.keep === true;
  }

  /** The directory, once the first exec created it. */
  get path(): string | undefined {
    return this.#dir;
  }

  /** Leave the directory at `close()` (an exec asked with `keepDir`). */
  keep(): void {
    this.#keep = true;
  }

  /** Creates the directory at the first call; later calls get the same one. */
  open(tmpDir: string | undefined): Promise<string> {
    if (this.#closed) return Promise.reject(new MountError("EIO", "the workspace is closed"));
    this.#opening ??= (async () => {
      const given = this.#options.path;
      let dir: string;
      if (given === undefined) dir = await mkdtemp(join(tmpDir ?? tmpdir(), "ws-exec-"));
      else {
        dir = resolve(given);
        let entries: string[];
        try {
          mkdirSync(dir, { recursive: true });
          entries = readdirSync(dir);
        } catch (error) {
          // A file in the way (ENOTDIR, EEXIST), no permission (EACCES): a MountError with Node's code.
          throw toMountError(error, { path: dir, syscall: "mkdir" });
        }
        if (entries.length > 0) {
          // Whatever is there would look like the first command's output and be pulled back.
          throw new MountError(
            "EEXIST",
            `execDir ${dir} is not empty; give a missing or empty directory (the workspace syncs it with the VFS)`,
            { path: dir, syscall: "mkdir" },
          );
        }
      }
      this.#dir = dir;
      return dir;
    })();
    this.#opening.catch(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  /** Paths whose exec-side copy is the version of the stub the VFS holds (large files streamed to their mount). */
  heldStubs(host: ExecHost): Set<string> {
    const out = new Set<string>();
    for (const [path, snap] of this.#snapshot) {
      if (snap.vfs?.startsWith("s:") && stubVersion(host, path) === snap.vfs) out.add(path);
    }
    return out;
  }

  /** Runs `fn` when no other push or pull runs (commands themselves run in parallel). */
  locked<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** Writes what changed in the VFS since the last sync (call inside `locked`). */
  push(host: ExecHost): void {
    const dir = this.#dir;
    if (!dir) return;
    const { mem, ns } = host;
    const snapshot = this.#snapshot;
    const wanted = new Set<string>(["/"]);
    const walk = (abs: string): void => {
      for (const d of mem.readdirSync(abs, { withFileTypes: true })) {
        const child = abs === "/" ? `/${String(d.name)}` : `${abs}/${String(d.name)}`;
        if (ns.isIgnored(ns.resolve(child))) continue;
        wanted.add(child);
        const hostPath = join(dir, child);
        const st = mem.lstatSync(child);
        const before = snapshot.get(child);
        if (d.isDirectory()) {
          const now = hostSnap(hostPath);
          const version = dirVersion(st.mode);
          if (before?.type === "directory" && now?.type === "directory") {
            if (before.vfs !== version) {
              chmodSync(hostPath, dirMode(st.mode));
              snapshot.set(child, { ...snapOf(hostPath), vfs: version });
            }
            walk(child);
            continue;
          }
          if (now?.type === "directory") {
            // Made by a command meanwhile, or left from before: adopt it (a folder has no bytes to lose).
            snapshot.set(child, { ...now, vfs: version });
            walk(child);
            continue;
          }
          // Something else is on the host (or nothing, where a command removed the folder): replace
          // it only if it is what the last sync left there.
          if (now ? !(before && sameSnap(before, now)) : before !== undefined) continue;
          if (now) rmSync(hostPath, { recursive: true, force: true });
          mkdirSync(hostPath);
          chmodSync(hostPath, dirMode(st.mode));
          snapshot.set(child, { ...snapOf(hostPath), vfs: version });
          walk(child);
          continue;
        }
        const version = versionOf(st);
        // Unchanged in the VFS since the last sync: nothing to write (whatever a command did is the pull's).
        if (before && before.vfs === version) continue;
        const now = hostSnap(hostPath);
        // A large file kept as a stub, read (hydrated) since: the VFS now holds the same version.
        if (before && now && sameSnap(before, now) && hydratedFrom(before.vfs, st)) {
          snapshot.set(child, { ...before, vfs: version });
          continue;
        }
        // Changed in the VFS: written unless a command changed or deleted the host side meanwhile
        // (then the pull decides, and the VFS change is a conflict with what the command started from).
        if (now ? !(before && sameSnap(before, now)) : before !== undefined) continue;
        if (now) rmSync(hostPath, { recursive: true, force: true });
        if (d.isSymbolicLink()) symlinkSync(mem.readlinkSync(child), hostPath);
        else {
          // "wx": never through whatever a command may have put there since the check.
          writeFileSync(hostPath, mem.readFileSync(child), { flag: "wx" });
          // Exact modes (never widened) and the VFS's mtime, so make, Python's .pyc checks, rsync,
          // tar and git see the file as the workspace has it.
          chmodSync(hostPath, st.mode & 0o7777);
          utimesSync(hostPath, st.mtime, st.mtime);
        }
        snapshot.set(child, { ...snapOf(hostPath), vfs: version });
      }
    };
    walk("/");
    // Mount roots exist on the exec side even when nothing under them is hydrated yet, and so do
    // folders that hold only stubs (empty): `ls` shows them, and a command's `rm -rf` of one is seen.
    const ensure = (abs: string): void => {
      try {
        mkdirConfined(dir, abs);
      } catch {
        return; // A link or file on the way (a command left it): the pull reports it, nothing is followed.
      }
      for (let p = abs; p !== "/" && !wanted.has(p); p = p.slice(0, p.lastIndexOf("/")) || "/") {
        wanted.add(p);
        if (!snapshot.has(p)) snapshot.set(p, snapOf(join(dir, p)));
      }
    };
    for (const root of host.roots()) {
      const view = ns.view(root);
      if (view?.record.type !== "directory") continue;
      ensure(root);
      for (const rel of view.stubs.liveDirs()) {
        const abs = view.absOf(rel);
        if (rel === "" || wanted.has(abs) || ns.isIgnored(ns.resolve(abs)) || ns.isFileAt(abs)) continue;
        ensure(abs);
      }
    }
    // Gone from the VFS since the last sync: removed here too, unless a command changed it meanwhile.
    const gone = [...snapshot.keys()].filter((p) => !wanted.has(p)).sort((a, b) => b.length - a.length);
    for (const path of gone) {
      const before = snapshot.get(path)!;
      // A large file streamed to its mount: the VFS holds it as a stub of the version this copy is.
      if (before.vfs?.startsWith("s:") && stubVersion(host, path) === before.vfs) continue;
      // Never through a folder a running command swapped for a link: the pull deals with that first.
      if (!parentsInside(dir, path)) continue;
      const hostPath = join(dir, path);
      const now = hostSnap(hostPath);
      if (!now) {
        snapshot.delete(path);
        continue;
      }
      if (before.type === "directory" && now.type === "directory") {
        try {
          rmdirSync(hostPath);
          snapshot.delete(path);
        } catch {
          // Not empty: a command's files are in it (the pull brings them back).
        }
        continue;
      }
      if (!sameSnap(before, now)) continue;
      unlinkSync(hostPath);
      snapshot.delete(path);
    }
  }

  /**
   * Takes what the command (and any other command since the last sync) changed, applies it to the
   * VFS and mirrors it; paths whose change was not applied (a conflict kept the API side, an
   * unseen stub, an error) are made to match the VFS again, then the VFS's own changes are pushed.
   */
  async pull(host: ExecHost, streamBytes?: number): Promise<ExecChanges> {
    const dir = this.#dir!;
    const d = diff(host, dir, this.#snapshot, streamBytes);
    const { changes, unapplied } = await pullBack(host, d);
    // The new starting point: the host as the walk saw it. A path the pull applied is in sync with
    // the VFS as it is now; any other path keeps the VFS version its host content came from, so a
    // VFS change made meanwhile (a command only touched the file) is still written by the push.
    const applied = new Set(d.changes.map((c) => c.path));
    const next = new Map<string, Snap>();
    for (const [path, now] of d.walked) {
      const before = this.#snapshot.get(path);
      if (before && sameSnap(before, now)) next.set(path, before);
      else if (now.type === "directory") {
        next.set(path, {
          ...now,
          vfs: before?.type === "directory" ? before.vfs : vfsDirVersion(host, path),
        });
      } else next.set(path, { ...now, vfs: applied.has(path) ? syncedVersion(host, path) : before?.vfs });
    }
    this.#snapshot = next;
    for (const path of topmost(unapplied)) this.#resync(path);
    this.push(host);
    return changes;
  }

  /** Drops what the host holds at `path` (never through a link) so the next push writes the VFS's version. */
  #resync(path: string): void {
    const dir = this.#dir!;
    // A parent swapped for a link or a file is resynced itself (it is in the list too).
    if (!parentsInside(dir, path)) return;
    rmSync(join(dir, path), { recursive: true, force: true });
    for (const key of [...this.#snapshot.keys()]) {
      if (key === path || key.startsWith(`${path}/`)) this.#snapshot.delete(key);
    }
  }

  /** Removes the directory (unless kept); later `open` calls reject. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#lock;
    const dir = this.#dir;
    if (dir && !this.#keep) await rm(dir, { recursive: true, force: true });
  }
}

/** Every folder on the way to `path` in `dir` is a real folder (no link, no file): safe to act on `path`. */
function parentsInside(dir: string, path: string): boolean {
  let at = dir;
  const parts = path.split("/").filter((s) => s !== "");
  for (const name of parts.slice(0, -1)) {
    at = join(at, name);
    try {
      if (!lstatSync(at).isDirectory()) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Folder modes: exact for root (the kernel lets it write anyway); owner rwx added for anyone else. */
function dirMode(mode: number): number {
  return isRoot() ? mode & 0o7777 : (mode & 0o7777) | 0o700;
}

/** The paths not under another path of the list. */
function topmost(paths: readonly string[]): string[] {
  const all = new Set(paths);
  const under = (p: string): boolean => {
    for (let q = p.slice(0, p.lastIndexOf("/")); q !== ""; q = q.slice(0, q.lastIndexOf("/"))) {
      if (all.has(q)) return true;
    }
    return false;
  };
  return [...all].filter((p) => !under(p));
}

function vfsDirVersion(host: ExecHost, path: string): string | undefined {
  try {
    const st = host.mem.lstatSync(path);
    return st.isDirectory() ? dirVersion(st.mode) : undefined;
  } catch {
    return undefined;
  }
}
