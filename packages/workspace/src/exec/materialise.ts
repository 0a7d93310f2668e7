import { lstatSync } from "node:fs";
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
    return versionOf(st);
  } catch {
    return undefined;
  }
}

/**
 * The version of a live stub at `path` (`s:` and its etag, size and mtime), or undefined: a large
 * file a command wrote stays a stub once streamed to its mount, and its exec-side copy is in sync
 * with exactly that version.
 */
export function stubVersion(host: ExecHost, path: string): string | undefined {
  const r = host.ns.resolve(path);
  const k = host.ns.kind(r);
  if (k?.type !== "stub") return undefined;
  const e = k.view.stubs.entry(k.slot);
  return `s:${e.etag ?? ""}:${e.size}:${e.mtime ?? ""}`;
}

/** What the exec side is in sync with at `path`: the VFS file's version, else the stub's. */
export function syncedVersion(host: ExecHost, path: string): string | undefined {
  return vfsVersion(host, path) ?? stubVersion(host, path);
}

/** True when a hydrated VFS file (`st`) is the stub version `version` fetched: same size and mtime. */
export function hydratedFrom(version: string | undefined, st: { size: number; mtimeMs: number }): boolean {
  if (!version?.startsWith("s:")) return false;
  // From the end: an etag may hold any character.
  const parts = version.split(":");
  const mtime = parts.at(-1);
  return Number(parts.at(-2)) === st.size && mtime !== "" && Number(mtime) === st.mtimeMs;
}

/** The version of a VFS file or link from its stats: any write, chmod or utimes changes it. */
export function versionOf(st: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
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
