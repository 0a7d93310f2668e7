import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import type { ExecHost } from "./exec-host.js";
import { type Snap, sameSnap, snapOf } from "./materialise.js";

export type Change =
  | {
      readonly op: "file";
      readonly path: string;
      readonly bytes: Uint8Array;
      readonly mode: number;
      /** The file's mtime on the exec side (ms), kept in the VFS and carried to the mount. */
      readonly mtimeMs: number;
      readonly isNew: boolean;
    }
  | { readonly op: "delete"; readonly path: string }
  | { readonly op: "symlink"; readonly path: string; readonly target: string };

export interface Diff {
  readonly changes: Change[];
  readonly newDirs: Array<[string, number]>;
  readonly goneDirs: string[];
  /** Files with more than one name (same inode), each group sorted. */
  readonly hardLinks: string[][];
}

/** Walks the host directory after the run and lists what differs from the snapshot. */
export function diff(host: ExecHost, dir: string, snapshot: Map<string, Snap>): Diff {
  const { ns, mem } = host;
  const changes: Change[] = [];
  const newDirs: Array<[string, number]> = [];
  const seen = new Set<string>();
  const byInode = new Map<bigint, string[]>();
  const walk = (abs: string): void => {
    const hostDir = join(dir, abs);
    for (const d of readdirSync(hostDir, { withFileTypes: true })) {
      const child = abs === "/" ? `/${d.name}` : `${abs}/${d.name}`;
      const r = ns.resolve(child);
      if (ns.isIgnored(r)) continue;
      seen.add(child);
      const hostPath = join(dir, child);
      const before = snapshot.get(child);
      const now = snapOf(hostPath);
      if (now.type === "directory") {
        if (before?.type !== "directory") {
          newDirs.push([child, Number(lstatSync(hostPath).mode & 0o7777)]);
          // A file (or a stub, absent on this side) replaced by a directory: the file goes first.
          if (before || ns.isFileAt(child)) changes.push({ op: "delete", path: child });
        }
        walk(child);
        continue;
      }
      if (now.type === "file" && now.nlink > 1n) {
        const names = byInode.get(now.ino) ?? [];
        names.push(child);
        byInode.set(now.ino, names);
      }
      if (before && sameSnap(before, now)) continue;
      if (now.type === "symlink") {
        changes.push({ op: "symlink", path: child, target: readlinkSync(hostPath) });
        continue;
      }
      if (now.type !== "file") continue;
      const bytes = readFileSync(hostPath);
      const st = lstatSync(hostPath);
      const mode = st.mode & 0o7777;
      if (before?.type === "file") {
        // Only metadata moved (touch, same bytes written back): not a change unless the mode changed.
        try {
          const current = mem.readFileSync(child);
          const currentMode = mem.lstatSync(child).mode & 0o7777;
          if (Buffer.compare(current, bytes) === 0 && currentMode === mode) continue;
        } catch {
          // gone from the VFS meanwhile: apply
        }
      }
      changes.push({
        op: "file",
        path: child,
        bytes: new Uint8Array(bytes),
        mode,
        mtimeMs: st.mtimeMs,
        isNew: !before && !ns.exists(child),
      });
    }
  };
  walk("/");
  const goneDirs: string[] = [];
  for (const [path, snap] of snapshot) {
    if (seen.has(path)) continue;
    if (snap.type === "directory") goneDirs.push(path);
    else changes.push({ op: "delete", path });
  }
  goneDirs.sort((a, b) => b.length - a.length);
  const hardLinks = [...byInode.values()].filter((names) => names.length > 1).map((names) => names.sort());
  return { changes, newDirs, goneDirs, hardLinks };
}
