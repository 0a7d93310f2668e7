import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
} from "node:fs";
import { join } from "node:path";
import type { ExecHost } from "./exec-host.js";
import { type Snap, type SpecialType, sameSnap, snapOf, typeOf } from "./materialise.js";

export type Change =
  | {
      readonly op: "file";
      readonly path: string;
      /** The file's bytes; empty for a `large` one (not read: it goes to its mount part by part). */
      readonly bytes: Uint8Array;
      readonly size: number;
      /** A file of at least `streamBytes`: where it is on the host, never read here. */
      readonly large?: HostFile | undefined;
      readonly mode: number;
      /** The file's mtime on the exec side (ms), kept in the VFS and carried to the mount. */
      readonly mtimeMs: number;
      readonly isNew: boolean;
      /** The path held a stub the command was not given: never an edit of the stored file. */
      readonly unseen?: boolean;
    }
  | { readonly op: "delete"; readonly path: string }
  | { readonly op: "symlink"; readonly path: string; readonly target: string };

export interface Diff {
  readonly changes: Change[];
  readonly newDirs: Array<[string, number]>;
  /** Folders that were there before the command and whose mode it changed (`chmod`). */
  readonly modeDirs: Array<[string, number]>;
  readonly goneDirs: string[];
  /** Files with more than one name (same inode), each group sorted. */
  readonly hardLinks: string[][];
  /** FIFOs, sockets and devices the command left: never read, never pulled back, reported. */
  readonly skipped: Array<{ path: string; type: SpecialType }>;
  /** The VFS version of each path at the last sync, which the command started from (undefined: no VFS file then). */
  readonly vfsAtStart: (path: string) => string | undefined;
  /** Folders the command made over a stored file it could not see: not pulled back, reported. */
  readonly unseenDirs: string[];
  /** Every path the walk saw, as it was just before it was read (the next sync's starting point). */
  readonly walked: Map<string, Snap>;
}

/** A large file the command left, as the walk saw it: read later, part by part (`openHostSource`). */
export interface HostFile {
  readonly hostPath: string;
  readonly size: number;
  readonly ino: number;
  /** Fewer blocks than bytes: it has holes (found when it is opened). */
  readonly sparse: boolean;
}

/**
 * Reads a regular file without following a link and without blocking: opened `O_NOFOLLOW |
 * O_NONBLOCK`, then checked with `fstat` on the open descriptor, so a FIFO or device swapped in
 * after the listing is never read. Returns the special type instead of bytes when it is not a file.
 */
function readRegular(
  hostPath: string,
  streamBytes: number,
): { bytes: Buffer; mode: number; mtimeMs: number; large?: HostFile } | Snap["type"] {
  let fd: number;
  try {
    fd = openSync(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    // Swapped after the listing: a socket cannot be opened (ENXIO), a link is not followed (ELOOP).
    const code = (error as { code?: string }).code;
    if (code === "ENXIO") return "socket";
    if (code === "ELOOP") return "symlink";
    throw error;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return typeOf(st);
    const mode = st.mode & 0o7777;
    if (st.size >= streamBytes) {
      const large = { hostPath, size: st.size, ino: st.ino, sparse: st.blocks * 512 < st.size };
      return { bytes: EMPTY, mode, mtimeMs: st.mtimeMs, large };
    }
    return { bytes: readFileSync(fd), mode, mtimeMs: st.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Walks the exec directory after a run and lists what differs from the last sync (`snapshot`).
 * Files of `streamBytes` or more are not read (see `Change.large`).
 */
export function diff(
  host: ExecHost,
  dir: string,
  snapshot: Map<string, Snap>,
  streamBytes: number = Number.POSITIVE_INFINITY,
): Diff {
  const { ns, mem } = host;
  const changes: Change[] = [];
  const newDirs: Array<[string, number]> = [];
  const modeDirs: Array<[string, number]> = [];
  const seen = new Set<string>();
  const byInode = new Map<bigint, string[]>();
  const skipped: Array<{ path: string; type: SpecialType }> = [];
  const unseenDirs: string[] = [];
  const walked = new Map<string, Snap>();
  const isStub = (path: string): boolean => ns.kind(ns.resolve(path))?.type === "stub";
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
      walked.set(child, now);
      if (now.type === "directory") {
        if (!before && isStub(child)) {
          // mkdir -p over a stored file the command never saw: a disk would say ENOTDIR.
          unseenDirs.push(child);
          continue;
        }
        if (before?.type !== "directory") {
          newDirs.push([child, Number(lstatSync(hostPath).mode & 0o7777)]);
          // A file (or a stub, absent on this side) replaced by a directory: the file goes first.
          if (before || ns.isFileAt(child)) changes.push({ op: "delete", path: child });
        } else if (now.mode !== before.mode) modeDirs.push([child, now.mode]);
        walk(child);
        continue;
      }
      if (now.type === "file" && now.nlink > 1n) {
        const names = byInode.get(now.ino) ?? [];
        names.push(child);
        byInode.set(now.ino, names);
      }
      if (now.type !== "file" && now.type !== "symlink") {
        // A FIFO (a blocking read would hang exec), a socket (unreadable) or a device: skipped,
        // reported, and whatever the path held before is left as it was.
        skipped.push({ path: child, type: now.type });
        continue;
      }
      if (before && sameSnap(before, now)) continue;
      if (now.type === "symlink") {
        changes.push({ op: "symlink", path: child, target: readlinkSync(hostPath) });
        continue;
      }
      const read = readRegular(hostPath, streamBytes);
      if (typeof read === "string") {
        // Changed type after the listing (the command still runs something): a special file is
        // reported; a link or folder swapped in is left for the next exec to see.
        if (read !== "file" && read !== "directory" && read !== "symlink")
          skipped.push({ path: child, type: read });
        continue;
      }
      const { bytes, mode, large } = read;
      if (before?.type === "file" && !large) {
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
        // The Buffer of a whole-file read is its own (not pooled): taken as it is, not copied.
        bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        size: large?.size ?? bytes.byteLength,
        ...(large ? { large } : {}),
        mode,
        mtimeMs: read.mtimeMs,
        isNew: !before && !ns.exists(child),
        ...(!before && isStub(child) ? { unseen: true } : {}),
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
  return {
    changes,
    newDirs,
    modeDirs,
    goneDirs,
    hardLinks,
    skipped,
    unseenDirs,
    walked,
    vfsAtStart: (path) => snapshot.get(path)?.vfs,
  };
}
