import { constants, readlinkSync } from "node:fs";
import { type FileHandle, lstat, mkdir, open, readlink, realpath } from "node:fs/promises";
import { sep } from "node:path";
import { MountError } from "@ws/core";

/**
 * Safe access to a directory tree on the host that other processes may change while we work in it
 * (a command that ran over it plants a link, a user swaps a folder for one).
 *
 * Node has no `openat`, so we use Linux's `/proc/self/fd/N` instead: each directory on the way is
 * opened with `O_DIRECTORY | O_NOFOLLOW`, and the next one is opened *through the previous one's
 * descriptor*. Once the parent of a file is open and checked to be inside the root, every later
 * step (the temp file, the rename, the unlink, the read) names it as `/proc/self/fd/N/name`, which
 * the kernel resolves to that very directory however the paths around it are swapped meanwhile.
 * The last component is always opened with `O_NOFOLLOW`.
 */

/** True when `real` (an already resolved path) is `root` or below it. */
export function isInside(rootReal: string, real: string): boolean {
  return real === rootReal || real.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep);
}

export function errnoOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

const PASSTHROUGH = new Set([
  "ENOENT",
  "ENOTDIR",
  "EISDIR",
  "EACCES",
  "EPERM",
  "EEXIST",
  "ENAMETOOLONG",
  "ELOOP",
]);

/** A node:fs error as a MountError with the mount's path and root, keeping the errno where it is meaningful. */
export function fsError(error: unknown, relPath: string, root: string, syscall: string): MountError {
  if (MountError.isInstance(error)) return error;
  const errno = errnoOf(error);
  const code =
    errno && PASSTHROUGH.has(errno)
      ? (errno as "ENOENT")
      : errno === "EDQUOT" || errno === "ENOSPC"
        ? "EDQUOT"
        : "EIO";
  // Node's message names the /proc/self/fd path: say it in the mount's terms instead.
  const what = errno ?? (error instanceof Error ? error.message : String(error));
  return new MountError(code, `${syscall} ${relPath} in host directory ${root} failed (${what})`, {
    path: relPath,
    root,
    syscall,
    cause: error,
  });
}

export function escapes(relPath: string, root: string, what: string): MountError {
  return new MountError(
    "EACCES",
    `${relPath}: ${what} leaves the host directory ${root}; reads and writes never follow a link out of the root`,
    { path: relPath, root },
  );
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** A directory pinned by its descriptor: `path` names it as `/proc/self/fd/N`. */
export interface PinnedDir {
  readonly path: string;
  close(): Promise<void>;
}

/** An open directory and the real path it had when it was checked to be inside the root. */
export interface OpenedDir {
  readonly handle: FileHandle;
  readonly where: string;
}

async function checkInside(
  handle: FileHandle,
  rootReal: string,
  relPath: string,
  root: string,
): Promise<string> {
  const where = await readlink(`/proc/self/fd/${handle.fd}`);
  if (!isInside(rootReal, where)) {
    await handle.close();
    throw escapes(relPath, root, "a parent directory");
  }
  return where;
}

export interface OpenDirOptions {
  /** Make missing directories (each with `dirMode`, then `owner` applied). */
  readonly create: boolean;
  readonly dirMode?: number | undefined;
  readonly owner?: ((path: string) => Promise<void>) | undefined;
  /** Told each directory this call made (relative to the root), after it was made. */
  readonly created?: ((relDir: string) => void) | undefined;
}

/**
 * Opens `relDir` (a `/`-separated directory below the root, or "" for the root) one segment at a
 * time, each through the previous one's descriptor. A segment that is a symlink is followed only
 * when its target is inside the root. Rejects `ENOENT` / `ENOTDIR` like `open`, `EACCES` for a link
 * that leaves the root. The caller closes the result.
 */
export async function openDirIn(
  rootReal: string,
  relDir: string,
  relPath: string,
  root: string,
  options: OpenDirOptions,
): Promise<OpenedDir> {
  let handle = await open(rootReal, constants.O_RDONLY | constants.O_DIRECTORY).catch((error: unknown) => {
    throw fsError(error, relPath, root, "open");
  });
  if (relDir === "") return { handle, where: rootReal };
  try {
    let walked = "";
    for (const segment of relDir.split("/")) {
      walked = walked === "" ? segment : `${walked}/${segment}`;
      const at = `/proc/self/fd/${handle.fd}/${segment}`;
      let next: FileHandle;
      try {
        next = await open(at, DIR_FLAGS);
      } catch (error) {
        const errno = errnoOf(error);
        if (errno === "ENOENT" && options.create) {
          try {
            await mkdir(at, { mode: options.dirMode ?? 0o755 });
            options.created?.(walked);
            if (options.owner) await options.owner(at);
          } catch (e) {
            if (errnoOf(e) !== "EEXIST") throw fsError(e, relPath, root, "mkdir");
          }
          next = await open(at, DIR_FLAGS).catch((e: unknown) => {
            throw fsError(e, relPath, root, "open");
          });
        } else if (errno === "ELOOP" || errno === "ENOTDIR") {
          const st = await lstat(at).catch((e: unknown) => {
            throw fsError(e, relPath, root, "lstat");
          });
          if (!st.isSymbolicLink()) {
            throw new MountError(
              "ENOTDIR",
              `${relPath}: ${segment} is not a directory in host directory ${root}`,
              {
                path: relPath,
                root,
              },
            );
          }
          const real = await realpath(at).catch((e: unknown) => {
            throw fsError(e, relPath, root, "realpath");
          });
          if (!isInside(rootReal, real)) throw escapes(relPath, root, `the directory link ${segment}`);
          next = await open(real, DIR_FLAGS).catch((e: unknown) => {
            throw fsError(e, relPath, root, "open");
          });
          await checkInside(next, rootReal, relPath, root);
        } else {
          throw fsError(error, relPath, root, "open");
        }
      }
      await handle.close();
      handle = next;
    }
    // Every hop was checked; this catches a directory moved out of the root while we walked.
    const where = await checkInside(handle, rootReal, relPath, root);
    return { handle, where };
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
}

/**
 * Open directories kept for the next operation in the same folder (a `cp` of 10,000 files opens
 * each folder once, not once per file). Before each reuse, the descriptor's current real path is
 * read back (`/proc/self/fd/N`): a folder moved, deleted or swapped since is dropped and walked
 * again, so the cache never widens what `openDirIn` allows. At most `limit` are kept open.
 */
interface CacheEntry {
  readonly opened: OpenedDir;
  refs: number;
  stale: boolean;
}

export class DirCache {
  readonly #limit: number;
  readonly #entries = new Map<string, CacheEntry>();
  readonly #opening = new Map<string, Promise<CacheEntry>>();

  constructor(limit = 64) {
    this.#limit = limit;
  }

  async acquire(
    rootReal: string,
    relDir: string,
    relPath: string,
    root: string,
    options: OpenDirOptions,
  ): Promise<PinnedDir> {
    const cached = this.#entries.get(relDir);
    if (cached && !cached.stale) {
      // The descriptor's real path, read back synchronously: a readlink of /proc/self/fd/N is
      // answered from the kernel's dentry cache (no disk), and a round trip through the thread
      // pool for it cost more than the write it guards (ws cp: one per file).
      let now: string | undefined;
      try {
        now = readlinkSync(`/proc/self/fd/${cached.opened.handle.fd}`);
      } catch {
        now = undefined;
      }
      if (now === cached.opened.where) {
        cached.refs++;
        // Most recently used last, so eviction takes the oldest.
        this.#entries.delete(relDir);
        this.#entries.set(relDir, cached);
        return this.#pin(cached);
      }
      this.#drop(relDir, cached);
    }
    // Concurrent operations in a folder not yet open share one walk (32 writes into a new folder
    // make it once, not 32 times); each still gets its own reference.
    // (A walk that may create folders is never shared with one that may not, nor the reverse.)
    const key = `${options.create ? "+" : "="}${relDir}`;
    let opening = this.#opening.get(key);
    if (!opening) {
      opening = this.#open(rootReal, relDir, relPath, root, options);
      this.#opening.set(key, opening);
      const forget = (): void => {
        if (this.#opening.get(key) === opening) this.#opening.delete(key);
      };
      opening.then(forget, forget);
    }
    const entry = await opening;
    // Evicted or found moved before this caller got its turn: walk again.
    if (entry.stale) return this.acquire(rootReal, relDir, relPath, root, options);
    entry.refs++;
    return this.#pin(entry);
  }

  async #open(
    rootReal: string,
    relDir: string,
    relPath: string,
    root: string,
    options: OpenDirOptions,
  ): Promise<CacheEntry> {
    const opened = await openDirIn(rootReal, relDir, relPath, root, options);
    const entry: CacheEntry = { opened, refs: 0, stale: false };
    const previous = this.#entries.get(relDir);
    if (previous) this.#drop(relDir, previous);
    // Not evicted here: its callers take their references when this resolves.
    this.#entries.set(relDir, entry);
    return entry;
  }

  #pin(entry: CacheEntry): PinnedDir {
    let released = false;
    return {
      path: `/proc/self/fd/${entry.opened.handle.fd}`,
      close: async () => {
        if (released) return;
        released = true;
        entry.refs--;
        if (entry.stale && entry.refs === 0) await entry.opened.handle.close().catch(() => {});
        else this.#evict();
      },
    };
  }

  #drop(relDir: string, entry: CacheEntry): void {
    entry.stale = true;
    if (this.#entries.get(relDir) === entry) this.#entries.delete(relDir);
    if (entry.refs === 0) void entry.opened.handle.close().catch(() => {});
  }

  #evict(): void {
    if (this.#entries.size <= this.#limit) return;
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#limit) break;
      if (entry.refs === 0) this.#drop(key, entry);
    }
  }

  /** Closes every cached directory (in use ones when released). */
  async clear(): Promise<void> {
    for (const [key, entry] of [...this.#entries]) this.#drop(key, entry);
  }
}
