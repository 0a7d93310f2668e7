import { randomUUID } from "node:crypto";
import { lstat, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  type LazyMount,
  type MountEntry,
  MountError,
  type MountErrorCode,
  type MountOptions,
  type PutOptions,
  readOnly,
  resolveMountOptions,
  validateRelativePath,
} from "@ws/core";

export interface FolderMountOptions extends MountOptions {
  /** Mount only this sub-folder of `dir` (`"team/a"`). */
  readonly prefix?: string | undefined;
}

const PASS_THROUGH: ReadonlySet<string> = new Set([
  "ENOENT",
  "EACCES",
  "EPERM",
  "EISDIR",
  "ENOTDIR",
  "ENAMETOOLONG",
]);

/** Node's fs errors carry an absolute host path; the contract wants the relative path and a known code. */
function toMountError(error: unknown, relPath: string, syscall: string): MountError {
  const code = (error as NodeJS.ErrnoException).code ?? "EIO";
  const mapped = (PASS_THROUGH.has(code) ? code : "EIO") as MountErrorCode;
  return new MountError(mapped, `${syscall} ${relPath}: ${(error as Error).message}`, {
    path: relPath,
    syscall,
    cause: error,
  });
}

/**
 * A lazy provider over a folder on the host: `list()` walks it, `fetch()` reads one file, `put()`
 * writes through a temporary file and a rename (so a reader never sees half a file), `delete()`
 * unlinks. Symbolic links and other non-files are skipped.
 *
 * ```ts
 * new Workspace({ mounts: { "/workspace/data": FolderMount("/srv/data", { mode: "read-write" }) } });
 * ```
 */
export function FolderMount(dir: string, options: FolderMountOptions = {}): LazyMount {
  const resolved = resolveMountOptions(options);
  const writable = resolved.mode === "read-write";
  const base = options.prefix ? join(dir, validateRelativePath(options.prefix)) : dir;
  // validateRelativePath refuses "..", "." and empty segments and a leading "/", so a joined path
  // can never leave the folder.
  const hostPath = (relPath: string): string => join(base, validateRelativePath(relPath));

  async function walk(folder: string, rel: string, out: MountEntry[]): Promise<void> {
    let names: string[];
    try {
      names = await readdir(folder);
    } catch (error) {
      // The mounted folder itself may not exist yet: that is an empty mount, not an error.
      if (rel === "" && (error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw toMountError(error, rel || ".", "scandir");
    }
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const info = await lstat(join(folder, name));
      if (info.isDirectory()) await walk(join(folder, name), path, out);
      else if (info.isFile())
        out.push({ path, size: info.size, mtime: info.mtimeMs, mode: info.mode & 0o777 });
    }
  }

  return {
    kind: "folder",
    strategy: "lazy",
    writable,
    options,

    async list(): Promise<MountEntry[]> {
      const out: MountEntry[] = [];
      await walk(base, "", out);
      return out;
    },

    async fetch(relPath: string): Promise<Uint8Array> {
      try {
        // readFile returns a Buffer that owns its memory; copying into a plain Uint8Array gives the
        // exact, unpooled view the contract asks for.
        return new Uint8Array(await readFile(hostPath(relPath)));
      } catch (error) {
        if (MountError.isInstance(error)) throw error;
        throw toMountError(error, relPath, "open");
      }
    },

    async put(relPath: string, bytes: Uint8Array, putOptions: PutOptions = {}): Promise<void> {
      if (!writable) throw readOnly(relPath, undefined, "write");
      if (putOptions.ifMatch !== undefined || putOptions.ifNoneMatch !== undefined) {
        // A folder has no atomic compare-and-swap; refusing is honest, ignoring would lose updates.
        throw new MountError(
          "ENOTSUP",
          `put ${relPath}: conditional writes are not supported by folder mounts`,
          {
            path: relPath,
            syscall: "write",
          },
        );
      }
      const target = hostPath(relPath);
      const temp = join(dirname(target), `.${randomUUID()}.tmp`);
      try {
        await mkdir(dirname(target), { recursive: true });
        await writeFile(temp, bytes);
        await rename(temp, target);
      } catch (error) {
        await rm(temp, { force: true });
        throw toMountError(error, relPath, "write");
      }
    },

    async delete(relPath: string): Promise<void> {
      if (!writable) throw readOnly(relPath, undefined, "unlink");
      const target = hostPath(relPath);
      try {
        // A folder at that path is not a file at that path: nothing to delete (and never recursive).
        if ((await stat(target)).isDirectory()) return;
        await unlink(target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        throw toMountError(error, relPath, "unlink");
      }
    },
  };
}
