import { chmodSync, lstatSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isRoot } from "../mem-vol.js";
import { mkdirConfined } from "./confine.js";
import type { ExecHost } from "./exec-host.js";

/** What a path looked like on the host right after materialisation: enough to spot a change without reading. */
export interface Snap {
  readonly type: "file" | "directory" | "symlink" | SpecialType;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
  readonly nlink: bigint;
  /** Permission bits (a folder's `chmod` changes only these and its ctime). */
  readonly mode: number;
  /** The VFS version of the path when it was written here (see `vfsVersion`); files and links only. */
  vfs?: string | undefined;
}

/** A file's version in the VFS (undefined when it has no VFS node: absent, a stub, a folder). */
export function vfsVersion(host: ExecHost, path: string): string | undefined {
  try {
    const st = host.mem.lstatSync(path);
    if (st.isDirectory()) return undefined;
    return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch {
    return undefined;
  }
}

/** What exec never reads nor pulls back (issue 9.3): skipped and reported in `changes.skipped`. */
export type SpecialType = "fifo" | "socket" | "block-device" | "character-device";

export function typeOf(st: {
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFile(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isBlockDevice(): boolean;
}): Snap["type"] {
  if (st.isDirectory()) return "directory";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFile()) return "file";
  if (st.isFIFO()) return "fifo";
  if (st.isSocket()) return "socket";
  return st.isBlockDevice() ? "block-device" : "character-device";
}

export function snapOf(hostPath: string): Snap {
  const st = lstatSync(hostPath, { bigint: true });
  return {
    type: typeOf(st),
    size: st.size,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    ino: st.ino,
    nlink: st.nlink,
    mode: Number(st.mode & 0o7777n),
  };
}

export function sameSnap(a: Snap, b: Snap): boolean {
  return (
    a.type === b.type &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.ino === b.ino
  );
}

/** Writes the VFS (memfs nodes only: stubs stay absent) to `dir`, recording each path's snapshot. */
export function materialise(host: ExecHost, dir: string): Map<string, Snap> {
  const snapshot = new Map<string, Snap>();
  const { mem, ns } = host;
  const walk = (abs: string): void => {
    for (const d of mem.readdirSync(abs, { withFileTypes: true })) {
      const child = abs === "/" ? `/${String(d.name)}` : `${abs}/${String(d.name)}`;
      if (ns.isIgnored(ns.resolve(child))) continue;
      const hostPath = join(dir, child);
      const st = mem.lstatSync(child);
      if (d.isDirectory()) {
        mkdirSync(hostPath, { recursive: true });
        walk(child);
        // Root writes into a 0o555 folder as the kernel lets it: the mode is kept exactly. Any other
        // user gets owner rwx added, else the command (and the pull-back) could not use the folder.
        chmodSync(hostPath, isRoot() ? st.mode & 0o7777 : (st.mode & 0o7777) | 0o700);
      } else if (d.isSymbolicLink()) {
        symlinkSync(mem.readlinkSync(child), hostPath);
      } else {
        writeFileSync(hostPath, mem.readFileSync(child));
        chmodSync(hostPath, st.mode & 0o7777);
        // The VFS's mtime, so make, rsync, tar and git see the file as the workspace has it.
        utimesSync(hostPath, st.mtime, st.mtime);
      }
      const snap = snapOf(hostPath);
      if (!d.isDirectory()) snap.vfs = vfsVersion(host, child);
      snapshot.set(child, snap);
    }
  };
  walk("/");
  // Mount roots exist on the exec side even when nothing under them is hydrated yet.
  for (const root of host.roots()) {
    if (ns.view(root)?.record.type !== "directory") continue;
    mkdirConfined(dir, root);
    // Folders that hold only stubs exist too (empty), so `ls` shows them and a command's `rm -rf`
    // of one is seen (and reported as "unseen" instead of silently doing nothing).
    const view = ns.view(root);
    for (const rel of view?.stubs.liveDirs() ?? []) {
      const abs = view?.absOf(rel);
      if (!abs || rel === "" || ns.isIgnored(ns.resolve(abs)) || snapshot.has(abs)) continue;
      if (ns.isFileAt(abs)) continue;
      mkdirConfined(dir, abs);
      for (let p = abs; p !== "/" && !snapshot.has(p); p = p.slice(0, p.lastIndexOf("/")) || "/") {
        snapshot.set(p, snapOf(join(dir, p)));
      }
    }
    for (let p = root; p !== "/" && !snapshot.has(p); p = p.slice(0, p.lastIndexOf("/")) || "/") {
      snapshot.set(p, snapOf(join(dir, p)));
    }
  }
  return snapshot;
}
