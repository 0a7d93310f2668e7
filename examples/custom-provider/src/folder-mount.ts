import { randomUUID } from "node:crypto";
import { lstat, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { MountError, type MountErrorCode, type MountOptions } from "@ws/core";
import {
  type ClassifyContext,
  type DefinedLazyMount,
  defineLazyMount,
  type RawEntry,
} from "@ws/provider-kit";

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
// Worth another attempt: the host is busy, not refusing.
const TRANSIENT: ReadonlySet<string> = new Set(["EAGAIN", "EBUSY", "EMFILE", "ENFILE"]);

/**
 * The provider's one error classifier: Node's fs errors carry an absolute host path and many
 * codes; the contract wants a known code, and the host path stays out of the message.
 */
function classify(error: unknown, context: ClassifyContext): MountError {
  const code = (error as NodeJS.ErrnoException).code ?? "EIO";
  const mapped = (PASS_THROUGH.has(code) ? code : "EIO") as MountErrorCode;
  return new MountError(mapped, `${context.op} ${context.relPath || "."}: ${code}`, {
    cause: error,
    transient: TRANSIENT.has(code),
  });
}

/**
 * A lazy provider over a folder on the host, written as an outside author would: it describes
 * its I/O to `defineLazyMount` from `@ws/provider-kit`, which does the rest (options, prefix,
 * read-only mode, path validation, sanitising, precondition checks). `list()` walks the folder,
 * `fetch()` reads one file, `put()` writes through a temporary file and a rename (so a reader
 * never sees half a file), `delete()` unlinks. Symbolic links and other non-files are skipped.
 *
 * ```ts
 * new Workspace({ mounts: { "/workspace/data": FolderMount("/srv/data", { mode: "read-write" }) } });
 * ```
 */
export function FolderMount(dir: string, options: FolderMountOptions = {}): DefinedLazyMount {
  // Keys are paths relative to `dir`, the prefix included; the kit has validated each relative
  // path (no "..", ".", empty segments or leading "/"), so a joined path never leaves the folder.
  const hostPath = (key: string): string => join(dir, key);

  async function walk(folder: string, rel: string, out: RawEntry[], top: boolean): Promise<void> {
    let names: string[];
    try {
      names = await readdir(folder);
    } catch (error) {
      // The mounted folder itself may not exist yet: that is an empty mount, not an error.
      if (top && (error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    for (const name of names) {
      const key = rel ? `${rel}/${name}` : name;
      const info = await lstat(join(folder, name));
      if (info.isDirectory()) await walk(join(folder, name), key, out, false);
      else if (info.isFile())
        out.push({ key, size: info.size, mtime: info.mtimeMs, mode: info.mode & 0o777 });
    }
  }

  return defineLazyMount({
    kind: "folder",
    options,
    prefix: options.prefix,
    // A folder has no atomic compare-and-swap: the kit refuses preconditions with ENOTSUP
    // (refusing is honest; ignoring would lose updates).
    conditionalWrites: false,
    classify,

    async *listPages() {
      const prefix = (options.prefix ?? "").replace(/^\/+|\/+$/g, "");
      const out: RawEntry[] = [];
      await walk(prefix ? hostPath(prefix) : dir, prefix, out, true);
      yield out;
    },

    async fetch(key) {
      // readFile returns a Buffer that owns its memory; copying into a plain Uint8Array gives the
      // exact, unpooled view the contract asks for.
      return new Uint8Array(await readFile(hostPath(key)));
    },

    async put(key, bytes) {
      const target = hostPath(key);
      const temp = join(dirname(target), `.${randomUUID()}.tmp`);
      try {
        await mkdir(dirname(target), { recursive: true });
        await writeFile(temp, bytes);
        await rename(temp, target);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    },

    async delete(key) {
      const target = hostPath(key);
      try {
        // A folder at that path is not a file at that path: nothing to delete (and never recursive).
        if ((await stat(target)).isDirectory()) return;
        await unlink(target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    },
  });
}
