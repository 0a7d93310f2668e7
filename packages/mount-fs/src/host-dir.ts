import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { chown, type FileHandle, lstat, open, realpath, rename, stat, unlink } from "node:fs/promises";
import { resolve } from "node:path";
// defineLazyMount is @ws/provider-kit's entry point, re-exported from @ws/core where it lives:
// imported from core because the kit's index also loads its HTTP client (undici), and `ws run`
// starts measurably faster without it. A host directory needs nothing else of the kit.
import {
  type DefinedLazyMount,
  defineLazyMount,
  MountError,
  type MountOptions,
  type PutOptions,
  type PutResult,
  type RawEntry,
} from "@ws/core";
import {
  DirCache,
  errnoOf,
  escapes,
  fsError,
  isInside,
  openFileNoFollow,
  type PinnedDir,
} from "./safe-path.js";
import { type WalkResult, walkHostDir } from "./walk.js";

export interface HostDirOptions extends MountOptions {
  /** Owner (uid) given to files and directories this mount creates. Default: the process's. */
  readonly uid?: number | undefined;
  /** Group (gid) given to files and directories this mount creates. Default: the process's. */
  readonly gid?: number | undefined;
  /** Permission bits of a new file (an existing file keeps its own). Default `0o644`. */
  readonly fileMode?: number | undefined;
  /** Permission bits of a directory created for a new file. Default `0o755`. */
  readonly dirMode?: number | undefined;
  /** Directories read in parallel while listing. Default 16. */
  readonly concurrency?: number | undefined;
}

/** `put` options a host may pass: the contract's preconditions plus the file's permission bits. */
export interface HostPutOptions extends PutOptions {
  /** Permission bits for the written file; default: the existing file's, else `fileMode`. */
  readonly mode?: number | undefined;
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
}

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
  const walk = async (): Promise<WalkResult> => walkHostDir(await rootReal(), hostPath, concurrency);

  return defineLazyMount({
    kind: "fs",
    options,
    // Nothing to compare a version against: ifMatch / ifNoneMatch fail ENOTSUP before any I/O.
    conditionalWrites: false,
    refresh: true,
    extra: { hostPath, walk },
    dispose: () => dirs.clear(),

    async *listPages(): AsyncIterable<readonly RawEntry[]> {
      const { entries, diagnostics } = await walk();
      for (const d of diagnostics) options.onDiagnostic?.(d);
      yield entries.map((e) => ({ key: e.path, size: e.size, mtime: e.mtime, mode: e.mode }));
    },

    async fetch(relPath: string): Promise<Uint8Array> {
      const real = await rootReal();
      const { dir, name } = split(relPath);
      const parent = await dirs.acquire(real, dir, relPath, hostPath, { create: false });
      let handle: FileHandle;
      try {
        try {
          handle = await openFileNoFollow(`${parent.path}/${name}`);
        } catch (error) {
          if (errnoOf(error) !== "ELOOP") throw fsError(error, relPath, hostPath, "open");
          // The last component is a link: follow it only to a file inside the root, as list() reported it.
          const linked = await realpath(`${parent.path}/${name}`).catch((e: unknown) => {
            throw fsError(e, relPath, hostPath, "realpath");
          });
          if (!isInside(real, linked)) throw escapes(relPath, hostPath, "the symbolic link");
          handle = await openFileNoFollow(linked).catch((e: unknown) => {
            throw fsError(e, relPath, hostPath, "open");
          });
        }
      } finally {
        await parent.close();
      }
      try {
        const st = await handle.stat();
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
        const buffer = await handle.readFile();
        // An exact, unshared Uint8Array (the host keeps it as the file's bytes without copying).
        if (buffer.byteOffset === 0 && buffer.buffer.byteLength === buffer.byteLength) {
          return new Uint8Array(buffer.buffer, 0, buffer.byteLength);
        }
        return new Uint8Array(buffer);
      } catch (error) {
        throw fsError(error, relPath, hostPath, "read");
      } finally {
        await handle.close();
      }
    },

    async put(relPath: string, bytes: Uint8Array, putOptions: HostPutOptions): Promise<void> {
      let mode = putOptions.mode === undefined ? undefined : bits("mode", putOptions.mode, fileMode);
      const real = await rootReal();
      const { dir, name } = split(relPath);
      const parent = await dirs.acquire(real, dir, relPath, hostPath, { create: true, dirMode, owner });
      const target = `${parent.path}/${name}`;
      // A short name: the file's own name may already be 255 bytes long.
      const temp = `${parent.path}/.ws-${randomBytes(8).toString("hex")}.tmp`;
      let handle: FileHandle | undefined;
      try {
        try {
          const existing = await lstat(target);
          if (existing.isDirectory()) {
            throw new MountError(
              "EISDIR",
              `put ${relPath}: a directory is in the way in host directory ${hostPath}`,
              { path: relPath, root: hostPath, syscall: "rename" },
            );
          }
          // A link in the way is replaced by the file (rename never writes through it); a file keeps its mode.
          if (existing.isFile()) mode ??= existing.mode & 0o7777;
        } catch (error) {
          if (MountError.isInstance(error)) throw error;
          if (errnoOf(error) !== "ENOENT") throw fsError(error, relPath, hostPath, "lstat");
        }
        mode ??= fileMode;
        handle = await open(temp, WRITE_FLAGS, 0o600);
        let offset = 0;
        while (offset < bytes.byteLength) {
          const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
          offset += bytesWritten;
        }
        // chmod after the write: the umask applies to open's mode, not to fchmod.
        await handle.chmod(mode);
        if (uid !== undefined || gid !== undefined) await handle.chown(uid ?? -1, gid ?? -1);
        await handle.close();
        handle = undefined;
        await rename(temp, target);
      } catch (error) {
        await handle?.close().catch(() => {});
        await unlink(temp).catch(() => {});
        throw fsError(error, relPath, hostPath, "write");
      } finally {
        await parent.close();
      }
    },

    async delete(relPath: string): Promise<void> {
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
      try {
        const st = await lstat(target);
        // A directory is not a file of this mount: there is nothing to delete at that path.
        if (st.isDirectory()) return;
        await unlink(target); // removes a link itself, never what it points at
      } catch (error) {
        if (errnoOf(error) === "ENOENT") return;
        throw fsError(error, relPath, hostPath, "unlink");
      } finally {
        await parent.close();
      }
    },
  }) as HostDirMount;
}
