import { randomUUID } from "node:crypto";
import { constants, readFileSync } from "node:fs";
import {
  chmod,
  chown,
  lchown,
  lstat,
  lutimes,
  readlink,
  realpath,
  rmdir,
  stat,
  symlink,
} from "node:fs/promises";
import { resolve } from "node:path";
// defineLazyMount is @ws/provider-kit's entry point, re-exported from @ws/core where it lives:
// imported from core because the kit's index also loads its HTTP client (undici), and `ws run`
// starts measurably faster without it. A host directory needs nothing else of the kit.
import {
  type DefinedLazyMount,
  defineLazyMount,
  type FetchResult,
  type MkdirOptions,
  MountError,
  type MountOptions,
  type PutOptions,
  type PutResult,
  type PutSource,
  type RawEntry,
  S_IFLNK,
} from "@ws/core";
import {
  closeFd,
  fchmodFd,
  fchownFd,
  fstatFd,
  ftruncateFd,
  futimesFd,
  lstatPath,
  openFd,
  readFd,
  renamePath,
  unlinkPath,
  writeAllFd,
} from "./fd-io.js";
import { DirCache, errnoOf, fsError, type PinnedDir } from "./safe-path.js";
import { type LinkPolicy, type WalkResult, walkHostDir } from "./walk.js";

export interface HostDirOptions extends MountOptions {
  /** Owner (uid) given to files and directories this mount creates. Default: the process's. */
  readonly uid?: number | undefined;
  /** Group (gid) given to files and directories this mount creates. Default: the process's. */
  readonly gid?: number | undefined;
  /** Permission bits of a new file (an existing file keeps its own). Default `0o644`. */
  readonly fileMode?: number | undefined;
  /** Permission bits of a directory this mount makes (for a new file, or by `mkdir`). Default `0o755`. */
  readonly dirMode?: number | undefined;
  /** Directories read in parallel while listing. Default 16. */
  readonly concurrency?: number | undefined;
}

/**
 * `put` options a host may pass: the contract's preconditions plus the file's permission bits,
 * its mtime, and `symlink` (store a symbolic link with that target, verbatim).
 */
export interface HostPutOptions extends PutOptions {
  /** Permission bits for the written file; default: the existing file's, else `fileMode`. */
  readonly mode?: number | undefined;
  /** The written file's (or link's) modification time, ms since the epoch; default: now. */
  readonly mtime?: number | undefined;
}

export interface HostDirMount extends DefinedLazyMount {
  /** The host directory as given, made absolute (not resolved through links). */
  readonly hostPath: string;
  /**
   * The walk behind `list()`, with what `list()` cannot say: which entries are in-root symbolic
   * links (and their targets), and what was skipped and why.
   */
  walk(): Promise<WalkResult>;
  put(relPath: string, bytes: Uint8Array, options?: HostPutOptions): Promise<PutResult>;
  /** The file's bytes with its mode and mtime; a link as `S_IFLNK` with its target as the bytes. */
  fetchWithInfo(relPath: string): Promise<FetchResult>;
  /**
   * Read-write mounts: makes a folder (and its parents) with `dirMode`, then gives it `mode` when
   * one is passed (also to a folder already there); it stays when empty.
   */
  mkdir?(relPath: string, options?: MkdirOptions): Promise<void>;
  /** Read-write mounts: removes an empty folder (one that still holds files goes when they are deleted). */
  rmdir?(relPath: string): Promise<void>;
}

/**
 * The file's bytes, read from a descriptor whose `fstat` gave `size`, as `readFile` reads them
 * (up to that size; to the end when it is 0, as for /proc files) without `readFile`'s second
 * `fstat`. The result is an exact, unshared Uint8Array (the host keeps it as the file's bytes
 * without copying).
 */
async function readAll(fd: number, size: number): Promise<Uint8Array> {
  if (size > 0) {
    const bytes = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const bytesRead = await readFd(fd, bytes, filled, size - filled);
      if (bytesRead === 0) return bytes.slice(0, filled); // shrank meanwhile
      filled += bytesRead;
    }
    return bytes;
  }
  // Size unknown (0): read until the end.
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const chunk = new Uint8Array(65536);
    const bytesRead = await readFd(fd, chunk, 0, chunk.byteLength);
    if (bytesRead === 0) break;
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}

/**
 * The process's umask (Linux: /proc/self/status), or undefined when it cannot be read.
 * `process.umask()` cannot read it without setting it (and is deprecated for that reason).
 */
function readUmask(): number | undefined {
  try {
    const line = /^Umask:\s*([0-7]+)$/m.exec(readFileSync("/proc/self/status", "latin1"));
    return line ? Number.parseInt(line[1]!, 8) : undefined;
  } catch {
    return undefined;
  }
}

/** Bytes of a streamed source read and written at a time. */
const STREAM_CHUNK = 1024 * 1024;

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

function bits(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > 0o7777) {
    throw new MountError(
      "EINVAL",
      `${name} must be permission bits between 0 and 0o7777, got ${String(value)}`,
    );
  }
  return value;
}

function id(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0) {
    throw new MountError("EINVAL", `${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/**
 * A host directory as a lazy mount: `list()` walks it, `fetch` reads one file, `put` writes a temp
 * file and renames it into place (never through a link that leaves the root), `delete` unlinks.
 * Nothing touches the disk until the first call.
 *
 * ```ts
 * const ws = new Workspace({
 *   mounts: {
 *     "/data": HostDir("./data"),                              // read-only (default)
 *     "/output": HostDir("./output", { mode: "read-write" }),  // results land on the host
 *   },
 * });
 * ```
 */
export function HostDir(path: string, options: HostDirOptions = {}): HostDirMount {
  if (typeof path !== "string" || path === "") {
    throw new MountError("EINVAL", `HostDir needs a directory path, got ${JSON.stringify(path)}`);
  }
  if (path.includes("\0")) throw new MountError("EINVAL", "HostDir path contains a NUL byte");
  const fileMode = bits("fileMode", options.fileMode, 0o644);
  const dirMode = bits("dirMode", options.dirMode, 0o755);
  const uid = id("uid", options.uid);
  const gid = id("gid", options.gid);
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new MountError("EINVAL", `concurrency must be a positive integer, got ${String(concurrency)}`);
  }
  const hostPath = resolve(path);
  const owner =
    uid === undefined && gid === undefined
      ? undefined
      : (p: string): Promise<void> => chown(p, uid ?? -1, gid ?? -1);

  let rootPromise: Promise<string> | undefined;
  // The root's real path, resolved once (and again after a failure): a root given through a link is fine.
  const rootReal = (): Promise<string> => {
    rootPromise ??= (async () => {
      let real: string;
      try {
        real = await realpath(hostPath);
      } catch (error) {
        rootPromise = undefined;
        if (errnoOf(error) === "ENOENT") {
          throw new MountError(
            "ENOENT",
            `host directory ${hostPath} does not exist; create it or fix the path`,
            {
              path: hostPath,
              cause: error,
            },
          );
        }
        throw fsError(error, ".", hostPath, "realpath");
      }
      const st = await stat(real);
      if (!st.isDirectory()) {
        rootPromise = undefined;
        throw new MountError("ENOTDIR", `${hostPath} is not a directory; HostDir mounts a directory`, {
          path: hostPath,
        });
      }
      return real;
    })();
    return rootPromise;
  };

  const split = (relPath: string): { dir: string; name: string } => {
    const at = relPath.lastIndexOf("/");
    return at === -1
      ? { dir: "", name: relPath }
      : { dir: relPath.slice(0, at), name: relPath.slice(at + 1) };
  };

  const dirs = new DirCache();
  // The umask, read at the first write (-1: unknown, so every file gets an fchmod).
  let umask: number | undefined;
  // Links are listed as links. A read-write mount is the user's own disk written through: every
  // link is kept, whatever it names. A read-only one lists only links that stay inside the root.
  const links: LinkPolicy = options.mode === "read-write" ? "verbatim" : "inside";
  const walk = async (): Promise<WalkResult> => walkHostDir(await rootReal(), hostPath, concurrency, links);
  // Folders asked to go (rmdir, or a delete of a folder's path) while files were still in them:
  // each goes as soon as the last of those is deleted through this mount.
  const doomed = new Set<string>();
  // Folders this mount made only to hold a file it wrote (not by mkdir): like an object store's
  // prefixes, they go with their last file. Folders made by mkdir, or found on disk, stay.
  const implicit = new Set<string>();
  // Folders made or kept by mkdir: never implicit, even when a concurrent put made them first.
  const explicit = new Set<string>();
  const spare = (relPath: string): void => {
    if (doomed.size === 0) return;
    for (let at = relPath.length; at > 0; at = relPath.lastIndexOf("/", at - 1)) {
      doomed.delete(relPath.slice(0, at));
    }
  };

  /** Reads a file (or a link itself) through its pinned parent. */
  const read = async (relPath: string): Promise<FetchResult> => {
    const real = await rootReal();
    const { dir, name } = split(relPath);
    const parent = await dirs.acquire(real, dir, relPath, hostPath, { create: false });
    let fd: number;
    try {
      try {
        fd = await openFd(`${parent.path}/${name}`, READ_FLAGS);
      } catch (error) {
        if (errnoOf(error) !== "ELOOP") throw fsError(error, relPath, hostPath, "open");
        // The last component is a link: the link itself, never what it names (its target is the
        // content, with S_IFLNK). `list()` only admits, on a read-only mount, links that stay
        // inside the root; reading one's target string is safe whatever it names.
        const at = `${parent.path}/${name}`;
        const [target, st] = await Promise.all([readlink(at), lstat(at)]).catch((e: unknown) => {
          throw fsError(e, relPath, hostPath, "readlink");
        });
        return {
          bytes: new TextEncoder().encode(target),
          mode: S_IFLNK | 0o777,
          mtime: Math.floor(st.mtimeMs),
        };
      }
    } finally {
      await parent.close();
    }
    try {
      const st = await fstatFd(fd);
      if (st.isDirectory()) {
        throw new MountError("EISDIR", `${relPath} is a directory in host directory ${hostPath}`, {
          path: relPath,
          root: hostPath,
          syscall: "read",
        });
      }
      if (!st.isFile()) {
        throw new MountError(
          "EACCES",
          `${relPath} is not a regular file in host directory ${hostPath}; not read`,
          { path: relPath, root: hostPath, syscall: "read" },
        );
      }
      const bytes = await readAll(fd, st.size);
      return { bytes, mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs) };
    } catch (error) {
      throw fsError(error, relPath, hostPath, "read");
    } finally {
      await closeFd(fd).catch(() => {});
    }
  };

  /**
   * Makes `relPath` and its missing parents, each with `dirMode` and the owner; they stay when
   * empty. `mode` (the folder's own, from the host's mkdir) is then applied to the folder itself,
   * made or found, through its pinned descriptor.
   */
  const makeDir = async (relPath: string, mode: number | undefined): Promise<void> => {
    spare(relPath);
    for (let at = relPath.length; at > 0; at = relPath.lastIndexOf("/", at - 1)) {
      const folder = relPath.slice(0, at);
      implicit.delete(folder);
      explicit.add(folder);
    }
    const folder = await dirs.acquire(await rootReal(), relPath, relPath, hostPath, {
      create: true,
      dirMode,
      owner,
    });
    try {
      // chmod of /proc/self/fd/N: the folder that was checked, however the paths around it move.
      if (mode !== undefined) await chmod(folder.path, mode);
    } catch (error) {
      throw fsError(error, relPath, hostPath, "chmod");
    } finally {
      await folder.close();
    }
  };

  /** rmdir of `relPath` if it is an empty folder: "busy" when it holds something, else "gone". */
  const tryRmdir = async (relPath: string): Promise<"gone" | "busy"> => {
    const real = await rootReal();
    const { dir, name } = split(relPath);
    let parent: PinnedDir;
    try {
      parent = await dirs.acquire(real, dir, relPath, hostPath, { create: false });
    } catch (error) {
      if (MountError.hasCode(error, "ENOENT") || MountError.hasCode(error, "ENOTDIR")) return "gone";
      throw error;
    }
    try {
      // rmdir never follows a link: a link at that path is ENOTDIR, left alone like a file.
      await rmdir(`${parent.path}/${name}`);
      return "gone";
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === "ENOENT" || errno === "ENOTDIR") return "gone";
      if (errno === "ENOTEMPTY" || errno === "EEXIST") return "busy";
      throw fsError(error, relPath, hostPath, "rmdir");
    } finally {
      await parent.close();
    }
  };

  /**
   * Removes the folder `relPath` when it is empty; one still holding files is doomed, and goes when
   * the last of them is deleted (the host deletes a folder's files and the folder in any order).
   */
  const removeDir = async (relPath: string): Promise<void> => {
    if ((await tryRmdir(relPath)) === "busy") {
      doomed.add(relPath);
      return;
    }
    doomed.delete(relPath);
    implicit.delete(relPath);
    explicit.delete(relPath);
    await sweep(relPath);
  };

  /** After `relPath` went: its doomed or implicit parent folders that are now empty go too. */
  const sweep = async (relPath: string): Promise<void> => {
    for (let at = relPath.lastIndexOf("/"); at > 0; at = relPath.lastIndexOf("/", at - 1)) {
      const folder = relPath.slice(0, at);
      if (!doomed.has(folder) && !implicit.has(folder)) return;
      if ((await tryRmdir(folder)) === "busy") return;
      doomed.delete(folder);
      implicit.delete(folder);
      explicit.delete(folder);
    }
  };

  /** Writes one file (or a marker, or a link) beside its target and renames it into place. */
  async function store(
    key: string,
    content: Uint8Array | PutSource,
    putOptions: HostPutOptions,
  ): Promise<void> {
    // The kit's mkdir: a folder marker `dir/`, its mode (if any) with S_IFDIR as s3fs stores it.
    if (key.endsWith("/")) {
      const folderMode = putOptions.mode === undefined ? undefined : putOptions.mode & 0o7777;
      return makeDir(key.slice(0, -1), folderMode);
    }
    const relPath = key;
    const link = putOptions.symlink;
    if (link !== undefined && (typeof link !== "string" || link === "" || link.includes("\0"))) {
      throw new MountError("EINVAL", `put ${relPath}: a link target must be a non-empty string without NUL`, {
        path: relPath,
        root: hostPath,
        syscall: "symlink",
      });
    }
    const mtime = putOptions.mtime;
    if (mtime !== undefined && !Number.isFinite(mtime)) {
      throw new MountError("EINVAL", `put ${relPath}: mtime must be milliseconds since the epoch`, {
        path: relPath,
        root: hostPath,
        syscall: "utime",
      });
    }
    let mode = putOptions.mode === undefined ? undefined : bits("mode", putOptions.mode, fileMode);
    spare(relPath);
    const real = await rootReal();
    const { dir, name } = split(relPath);
    const parent = await dirs.acquire(real, dir, relPath, hostPath, {
      create: true,
      dirMode,
      owner,
      created: (folder) => {
        if (!explicit.has(folder)) implicit.add(folder);
      },
    });
    const target = `${parent.path}/${name}`;
    // A short name: the file's own name may already be 255 bytes long.
    // randomUUID draws from a cached pool of entropy: no call into OpenSSL per file.
    const temp = `${parent.path}/.ws-${randomUUID()}.tmp`;
    let fd: number | undefined;
    let made = false;
    const inTheWay = (): MountError =>
      new MountError("EISDIR", `put ${relPath}: a directory is in the way in host directory ${hostPath}`, {
        path: relPath,
        root: hostPath,
        syscall: "rename",
      });
    try {
      // What is at the target matters only when no mode was given (a file there keeps its own).
      // A directory in the way is refused by the rename itself (EISDIR), whether or not we look.
      if (mode === undefined && link === undefined) {
        try {
          const existing = await lstatPath(target);
          if (existing.isDirectory()) throw inTheWay();
          // A link in the way is replaced by the file (rename never writes through it); a file keeps its mode.
          if (existing.isFile()) mode = existing.mode & 0o7777;
        } catch (error) {
          if (MountError.isInstance(error)) throw error;
          if (errnoOf(error) !== "ENOENT") throw fsError(error, relPath, hostPath, "lstat");
        }
      }
      if (link !== undefined) {
        // The link as given, whatever it names: it is made beside the target and renamed over
        // it, so nothing is ever written through it (or through what was there before).
        await symlink(link, temp);
        made = true;
        if (uid !== undefined || gid !== undefined) await lchown(temp, uid ?? -1, gid ?? -1);
        if (mtime !== undefined) await lutimes(temp, mtime / 1000, mtime / 1000);
      } else {
        mode ??= fileMode;
        const chown = uid !== undefined || gid !== undefined;
        // The temp file is made with its final mode when open can give it exactly: plain
        // permission bits the umask leaves alone, and no owner to change (the file then stays
        // 0600 until it has its owner). Otherwise 0600, and an fchmod after the write (the
        // umask applies to open's mode, not to fchmod).
        umask ??= readUmask() ?? -1;
        const exact = !chown && umask !== -1 && (mode & ~0o777) === 0 && (mode & umask) === 0;
        fd = await openFd(temp, WRITE_FLAGS, exact ? mode : 0o600);
        made = true;
        if (content instanceof Uint8Array) await writeAllFd(fd, content, 0);
        else {
          for (const [start, end] of content.extents ?? [[0, content.size] as const]) {
            for (let at = start; at < end; at += STREAM_CHUNK) {
              const stop = Math.min(end, at + STREAM_CHUNK);
              await writeAllFd(fd, await content.read(at, stop), at);
            }
          }
          await ftruncateFd(fd, content.size);
        }
        if (chown) await fchownFd(fd, uid ?? -1, gid ?? -1);
        // After the chown: a chown clears the set-user-ID and set-group-ID bits.
        if (!exact) await fchmodFd(fd, mode);
        // The mtime last: nothing written to the file after it.
        if (mtime !== undefined) await futimesFd(fd, mtime / 1000, mtime / 1000);
        const closing = fd;
        fd = undefined;
        await closeFd(closing);
      }
      await renamePath(temp, target).catch((error: unknown) => {
        throw errnoOf(error) === "EISDIR" ? inTheWay() : error;
      });
    } catch (error) {
      if (fd !== undefined) await closeFd(fd).catch(() => {});
      if (made) await unlinkPath(temp).catch(() => {});
      throw fsError(error, relPath, hostPath, link === undefined ? "write" : "symlink");
    } finally {
      await parent.close();
    }
  }

  return defineLazyMount({
    kind: "fs",
    options,
    // Nothing to compare a version against: ifMatch / ifNoneMatch fail ENOTSUP before any I/O.
    conditionalWrites: false,
    refresh: true,
    // Folders are real folders here: the kit's marker calls (`mkdir` puts `dir/`, `rmdir` deletes
    // it) land in put and delete below, and empty folders are listed as `dir/` markers.
    directoryMarkers: true,
    listDirectoryMarkers: true,
    symlinks: true,
    extra: { hostPath, walk },
    dispose: () => dirs.clear(),

    async *listPages(): AsyncIterable<readonly RawEntry[]> {
      const { entries, diagnostics } = await walk();
      for (const d of diagnostics) options.onDiagnostic?.(d);
      yield entries.map((e) =>
        e.type === "directory"
          ? { key: `${e.path}/`, size: 0, mode: e.mode }
          : { key: e.path, size: e.size, mtime: e.mtime, mode: e.mode },
      );
    },

    async fetch(relPath: string): Promise<Uint8Array> {
      return (await read(relPath)).bytes;
    },

    fetchWithInfo: (relPath: string): Promise<FetchResult> => read(relPath),

    put: (key: string, bytes: Uint8Array, putOptions: HostPutOptions): Promise<void> =>
      store(key, bytes, putOptions),

    // Only the source's data is written, at its offsets, and the file is then cut to its size: the
    // holes of a sparse file stay holes here (never read, never written), as `cp --sparse` leaves them.
    putStream: (key: string, source: PutSource, putOptions: HostPutOptions): Promise<void> =>
      store(key, source, putOptions),

    async delete(key: string): Promise<void> {
      if (key.endsWith("/")) return removeDir(key.slice(0, -1));
      const relPath = key;
      const real = await rootReal();
      const { dir, name } = split(relPath);
      let parent: PinnedDir;
      try {
        parent = await dirs.acquire(real, dir, relPath, hostPath, { create: false });
      } catch (error) {
        if (MountError.hasCode(error, "ENOENT") || MountError.hasCode(error, "ENOTDIR")) return;
        throw error;
      }
      const target = `${parent.path}/${name}`;
      let folder = false;
      try {
        const st = await lstatPath(target);
        // A folder at a file's path: nothing is there for the workspace, so the folder goes once empty.
        if (st.isDirectory()) folder = true;
        else await unlinkPath(target); // removes a link itself, never what it points at
      } catch (error) {
        if (errnoOf(error) !== "ENOENT") throw fsError(error, relPath, hostPath, "unlink");
      } finally {
        await parent.close();
      }
      if (folder) await removeDir(relPath);
      else await sweep(relPath);
    },
  }) as HostDirMount;
}
