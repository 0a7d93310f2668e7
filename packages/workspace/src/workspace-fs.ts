import type { VFS } from "@ws/core";
import type { Host } from "./host.js";
import { fsError } from "./host.js";
import type { FileStats } from "./mem-vol.js";
import type { WorkspaceDirent } from "./virtual-stats.js";

export type { FileStats };

export type ReadFileOptions =
  | BufferEncoding
  | { readonly encoding?: BufferEncoding | null; readonly flag?: string };
export type WriteFileOptions =
  | BufferEncoding
  | { readonly encoding?: BufferEncoding | null; readonly mode?: number; readonly flag?: string };

const F_OK = 0;
const W_OK = 2;

function encodingOf(
  options: ReadFileOptions | WriteFileOptions | undefined | null,
): BufferEncoding | undefined {
  if (typeof options === "string") return options;
  return options?.encoding ?? undefined;
}

/**
 * The workspace file API, shaped like `node:fs/promises` (absolute POSIX paths only). Errors
 * carry Node's `code`, `errno`, `path` and `syscall`. The first call of any method indexes every
 * mount (once). `stat` of a lazy stub answers from the listing; the first byte-reading call
 * fetches it. It also satisfies `@ws/core`'s `VFS`, isomorphic-git's promise `fs`, and (through
 * `callbackFs`) the `fs` option of fast-glob and tinyglobby.
 */
export class WorkspaceFs implements VFS {
  readonly #host: Host;

  /** @internal Use `workspace.fs`. */
  constructor(host: Host) {
    this.#host = host;
  }

  readFile(path: string): Promise<Buffer>;
  readFile(path: string, options: BufferEncoding | { readonly encoding: BufferEncoding }): Promise<string>;
  readFile(path: string, options?: ReadFileOptions | null): Promise<Buffer | string>;
  async readFile(path: string, options?: ReadFileOptions | null): Promise<Buffer | string> {
    await this.#host.ready();
    const bytes = await this.#host.readFile(path);
    const encoding = encodingOf(options);
    return encoding ? bytes.toString(encoding) : bytes;
  }

  async writeFile(path: string, data: string | Uint8Array, options?: WriteFileOptions | null): Promise<void> {
    await this.#host.ready();
    const o = typeof options === "object" && options !== null ? options : {};
    await this.#host.writeFile(path, data, {
      encoding: encodingOf(options),
      mode: o.mode,
      ...(o.flag ? { flag: o.flag } : {}),
    });
  }

  async appendFile(
    path: string,
    data: string | Uint8Array,
    options?: WriteFileOptions | null,
  ): Promise<void> {
    await this.#host.ready();
    const o = typeof options === "object" && options !== null ? options : {};
    await this.#host.writeFile(path, data, { encoding: encodingOf(options), mode: o.mode, append: true });
  }

  readdir(path: string, options: { readonly withFileTypes: true }): Promise<WorkspaceDirent[]>;
  readdir(
    path: string,
    options?: { readonly withFileTypes?: false; readonly encoding?: string } | string,
  ): Promise<string[]>;
  async readdir(
    path: string,
    options?: { readonly withFileTypes?: boolean; readonly encoding?: string } | string,
  ): Promise<string[] | WorkspaceDirent[]> {
    await this.#host.ready();
    if (typeof options === "object" && options?.withFileTypes) return this.#host.readdirEntries(path);
    return this.#host.readdir(path).map((e) => e.name);
  }

  async stat(path: string, _options?: unknown): Promise<FileStats> {
    await this.#host.ready();
    return this.#host.stat(path, true);
  }

  async lstat(path: string, _options?: unknown): Promise<FileStats> {
    await this.#host.ready();
    return this.#host.stat(path, false);
  }

  async mkdir(
    path: string,
    options?: { readonly recursive?: boolean; readonly mode?: number } | number,
  ): Promise<string | undefined> {
    await this.#host.ready();
    const o = typeof options === "number" ? { mode: options } : (options ?? {});
    return this.#host.mkdir(path, {
      ...(o.recursive ? { recursive: true } : {}),
      ...(o.mode === undefined ? {} : { mode: o.mode }),
    });
  }

  async rm(
    path: string,
    options?: { readonly recursive?: boolean; readonly force?: boolean },
  ): Promise<void> {
    await this.#host.ready();
    this.#host.rm(path, { recursive: options?.recursive === true, force: options?.force === true });
  }

  /** With `{ recursive: true }` this behaves like `rm -r` (as isomorphic-git expects of old Node). */
  async rmdir(path: string, options?: { readonly recursive?: boolean }): Promise<void> {
    await this.#host.ready();
    if (options?.recursive) this.#host.rm(path, { recursive: true });
    else this.#host.rmdir(path);
  }

  async unlink(path: string): Promise<void> {
    await this.#host.ready();
    this.#host.unlink(path);
  }

  /**
   * Renames a file or directory. Under a read-write mount this is a put of every new path, then
   * a delete of every old one: not atomic on object stores (a reader may briefly see both).
   */
  async rename(oldPath: string, newPath: string): Promise<void> {
    await this.#host.ready();
    await this.#host.rename(oldPath, newPath);
  }

  /** `F_OK` (default), `R_OK`, `X_OK` check existence; `W_OK` also fails with `EROFS` under a read-only mount. */
  async access(path: string, mode: number = F_OK): Promise<void> {
    await this.#host.ready();
    const r = this.#host.resolve(path);
    if (!this.#host.kind(r, true)) throw fsError("ENOENT", "access", r.path);
    if (mode & W_OK) this.#host.assertWritable(r, "access");
  }

  /** Copies bytes and mode. `flags & COPYFILE_EXCL` (1) refuses an existing destination. */
  async copyFile(src: string, dest: string, flags = 0): Promise<void> {
    await this.#host.ready();
    const bytes = await this.#host.readFile(src);
    const mode = this.#host.stat(src, true).mode & 0o7777;
    await this.#host.writeFile(dest, bytes, { mode, ...(flags & 1 ? { flag: "wx" } : {}) });
  }

  /** True when something (a file, a stub, a directory) is at `path`. Never throws for a missing path. */
  async exists(path: string): Promise<boolean> {
    await this.#host.ready();
    return this.#host.exists(path);
  }

  async readlink(path: string, _options?: unknown): Promise<string> {
    await this.#host.ready();
    return this.#host.readlink(path);
  }

  /** Symlinks are plain workspace files only: under a mount they throw `ENOTSUP` (or `EROFS`). */
  async symlink(target: string, path: string, _type?: string): Promise<void> {
    await this.#host.ready();
    this.#host.symlink(target, path);
  }

  /** Changes the VFS mode (providers store bytes, not modes: this is not mirrored). */
  async chmod(path: string, mode: number): Promise<void> {
    await this.#host.ready();
    await this.#host.chmod(path, mode);
  }

  async utimes(path: string, atime: number | Date, mtime: number | Date): Promise<void> {
    await this.#host.ready();
    await this.#host.utimes(path, atime, mtime);
  }

  async realpath(path: string, _options?: unknown): Promise<string> {
    await this.#host.ready();
    return this.#host.realpath(path);
  }
}
