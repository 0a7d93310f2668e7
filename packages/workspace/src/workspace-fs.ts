import { Readable } from "node:stream";
import type { VFS } from "@ws/core";
import { type HandleSource, type ReadStreamOptions, WorkspaceFileHandle } from "./hydrate/file-handle.js";
import type { FileStats } from "./mem-vol.js";
import { fsError, toFsError } from "./vfs/fs-errors.js";
import type { Namespace } from "./vfs/namespace.js";
import type { Posix } from "./vfs/posix.js";
import type { WorkspaceDirent } from "./virtual-stats.js";

export type { FileStats };

export type ReadFileOptions =
  | BufferEncoding
  | { readonly encoding?: BufferEncoding | null; readonly flag?: string };
export type WriteFileOptions =
  | BufferEncoding
  | { readonly encoding?: BufferEncoding | null; readonly mode?: number; readonly flag?: string };

/** @internal What `ws.fs` calls: the workspace's call gate, the namespace (reads) and the POSIX operations. */
export interface FsParts {
  /** Runs `fn` once every mount is indexed; refused once the workspace is closing. */
  run<T>(fn: () => T | Promise<T>): Promise<T>;
  readonly ns: Namespace;
  readonly posix: Posix;
  /** What a file handle on `path` reads (ranges of a stub, or a memfs descriptor). */
  openSource(path: string): Promise<HandleSource>;
}

const F_OK = 0;

function encodingOf(
  options: ReadFileOptions | WriteFileOptions | undefined | null,
): BufferEncoding | undefined {
  if (typeof options === "string") return options;
  return options?.encoding ?? undefined;
}

/**
 * The workspace file API, shaped like `node:fs/promises` (absolute POSIX paths only). Every error
 * is a `MountError` carrying Node's `code`, `errno`, `path` and `syscall`. The first call of any
 * method indexes every mount (once). `stat` of a lazy stub answers from the listing; the first
 * byte-reading call fetches it. It also satisfies `@ws/core`'s `VFS`, isomorphic-git's promise
 * `fs`, and (through `callbackFs`) the `fs` option of fast-glob and tinyglobby.
 */
export class WorkspaceFs implements VFS {
  readonly #p: FsParts;

  /** @internal Use `workspace.fs`. */
  constructor(parts: FsParts) {
    this.#p = parts;
  }

  /** Indexes (once), runs `fn`, and gives every failure the one error shape of `ws.fs`. */
  async #call<T>(syscall: string, path: unknown, fn: (p: FsParts) => T | Promise<T>): Promise<T> {
    try {
      return await this.#p.run(() => fn(this.#p));
    } catch (error) {
      const e = toFsError(error, String(path), syscall);
      // As in Node: a path through a file is ENOTDIR, not ENOENT.
      if (e.code === "ENOENT" && typeof path === "string" && this.#p.ns.underFile(path)) {
        throw fsError("ENOTDIR", e.syscall ?? syscall, e.path ?? path);
      }
      throw e;
    }
  }

  readFile(path: string): Promise<Buffer>;
  readFile(path: string, options: BufferEncoding | { readonly encoding: BufferEncoding }): Promise<string>;
  readFile(path: string, options?: ReadFileOptions | null): Promise<Buffer | string>;
  readFile(path: string, options?: ReadFileOptions | null): Promise<Buffer | string> {
    return this.#call("open", path, async (p) => {
      const bytes = await p.posix.readFile(path);
      const encoding = encodingOf(options);
      return encoding ? bytes.toString(encoding) : bytes;
    });
  }

  /**
   * Opens a file for reading (`flags` `"r"`, the default; writing goes through `writeFile`). A
   * handle on a stub of a mount with ranged reads (S3, R2, HTTP) fetches only the ranges read,
   * with read-ahead for sequential reads, and never hydrates the file.
   */
  open(path: string, flags: string | number = "r"): Promise<WorkspaceFileHandle> {
    return this.#call("open", path, async (p) => {
      if (flags !== "r" && flags !== 0) {
        throw fsError(
          "ENOTSUP",
          "open",
          String(path),
          `flags ${String(flags)}: only "r" handles exist; write with writeFile or appendFile`,
        );
      }
      return new WorkspaceFileHandle(await p.openSource(path));
    });
  }

  /**
   * A stream of the file's bytes `[start, end]` (end inclusive, as `node:fs`), read through a
   * handle (see `open`): ranges of a stub, never the whole file at once. Errors (a missing file)
   * arrive as the stream's `"error"`.
   */
  createReadStream(path: string, options: ReadStreamOptions = {}): Readable {
    const open = (): Promise<WorkspaceFileHandle> => this.open(path);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      const handle = await open();
      try {
        yield* handle.chunks(options);
      } finally {
        await handle.close();
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  writeFile(path: string, data: string | Uint8Array, options?: WriteFileOptions | null): Promise<void> {
    const o = typeof options === "object" && options !== null ? options : {};
    return this.#call("open", path, (p) =>
      p.posix.writeFile(path, data, {
        encoding: encodingOf(options),
        mode: o.mode,
        ...(o.flag ? { flag: o.flag } : {}),
      }),
    );
  }

  appendFile(path: string, data: string | Uint8Array, options?: WriteFileOptions | null): Promise<void> {
    const o = typeof options === "object" && options !== null ? options : {};
    return this.#call("open", path, (p) =>
      p.posix.writeFile(path, data, { encoding: encodingOf(options), mode: o.mode, append: true }),
    );
  }

  readdir(
    path: string,
    options: { readonly withFileTypes: true; readonly recursive?: boolean },
  ): Promise<WorkspaceDirent[]>;
  readdir(
    path: string,
    options?:
      | { readonly withFileTypes?: false; readonly encoding?: string; readonly recursive?: boolean }
      | string,
  ): Promise<string[]>;
  readdir(
    path: string,
    options?:
      | { readonly withFileTypes?: boolean; readonly encoding?: string; readonly recursive?: boolean }
      | string,
  ): Promise<string[] | WorkspaceDirent[]> {
    const o = typeof options === "object" && options !== null ? options : {};
    return this.#call("scandir", path, (p) => {
      if (o.recursive) {
        // As Node 20: the whole subtree, breadth first, links listed but not followed.
        const entries = p.ns.readdirRecursive(path);
        return o.withFileTypes ? entries : entries.map((e) => e.relative);
      }
      return o.withFileTypes ? p.ns.readdirEntries(path) : p.ns.readdir(path).map((e) => e.name);
    });
  }

  stat(path: string, _options?: unknown): Promise<FileStats> {
    return this.#call("stat", path, (p) => p.ns.stat(path, true));
  }

  lstat(path: string, _options?: unknown): Promise<FileStats> {
    return this.#call("lstat", path, (p) => p.ns.stat(path, false));
  }

  mkdir(
    path: string,
    options?: { readonly recursive?: boolean; readonly mode?: number } | number,
  ): Promise<string | undefined> {
    const o = typeof options === "number" ? { mode: options } : (options ?? {});
    return this.#call("mkdir", path, (p) =>
      p.posix.mkdir(path, {
        ...(o.recursive ? { recursive: true } : {}),
        ...(o.mode === undefined ? {} : { mode: o.mode }),
      }),
    );
  }

  rm(path: string, options?: { readonly recursive?: boolean; readonly force?: boolean }): Promise<void> {
    return this.#call("rm", path, (p) =>
      p.posix.rm(path, { recursive: options?.recursive === true, force: options?.force === true }),
    );
  }

  /** With `{ recursive: true }` this behaves like `rm -r` (as isomorphic-git expects of old Node). */
  rmdir(path: string, options?: { readonly recursive?: boolean }): Promise<void> {
    return this.#call("rmdir", path, (p) =>
      options?.recursive ? p.posix.rm(path, { recursive: true }) : p.posix.rmdir(path),
    );
  }

  unlink(path: string): Promise<void> {
    return this.#call("unlink", path, (p) => p.posix.unlink(path));
  }

  /**
   * Renames a file or directory. Under a read-write mount this is a put of every new path, then
   * a delete of every old one: not atomic on object stores (a reader may briefly see both).
   */
  rename(oldPath: string, newPath: string): Promise<void> {
    return this.#call("rename", oldPath, (p) => p.posix.rename(oldPath, newPath));
  }

  /** `F_OK` (default), `R_OK`, `X_OK` check existence; `W_OK` also fails with `EROFS` under a read-only mount. */
  access(path: string, mode: number = F_OK): Promise<void> {
    return this.#call("access", path, (p) => p.posix.access(path, mode));
  }

  /** Copies bytes and mode. `flags & COPYFILE_EXCL` (1) refuses an existing destination. */
  copyFile(src: string, dest: string, flags = 0): Promise<void> {
    return this.#call("copyfile", src, (p) => p.posix.copyFile(src, dest, flags));
  }

  /** True when something (a file, a stub, a directory) is at `path`. Never throws for a missing path. */
  exists(path: string): Promise<boolean> {
    return this.#call("stat", path, (p) => p.ns.exists(path));
  }

  readlink(path: string, _options?: unknown): Promise<string> {
    return this.#call("readlink", path, (p) => p.posix.readlink(path));
  }

  /** Symlinks are plain workspace files only: under a mount they throw `ENOTSUP` (or `EROFS`). */
  symlink(target: string, path: string, _type?: string): Promise<void> {
    return this.#call("symlink", path, (p) => p.posix.symlink(target, path));
  }

  /** Changes the VFS mode (providers store bytes, not modes: this is not mirrored). */
  chmod(path: string, mode: number): Promise<void> {
    return this.#call("chmod", path, (p) => p.posix.chmod(path, mode));
  }

  utimes(path: string, atime: number | Date, mtime: number | Date): Promise<void> {
    return this.#call("utime", path, (p) => p.posix.utimes(path, atime, mtime));
  }

  realpath(path: string, _options?: unknown): Promise<string> {
    return this.#call("realpath", path, (p) => p.ns.realpath(path));
  }
}
