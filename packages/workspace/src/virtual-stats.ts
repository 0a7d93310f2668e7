const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFMT = 0o170000;

/**
 * A `node:fs` Stats look-alike for paths that are not in memfs: lazy stubs (size, mtime and mode
 * from the listing, no fetch) and directories implied by stubs or mount roots.
 */
export class VirtualStats {
  readonly dev: number = 0;
  readonly ino: number;
  readonly mode: number;
  readonly nlink: number = 1;
  readonly uid: number = 0;
  readonly gid: number = 0;
  readonly rdev: number = 0;
  readonly size: number;
  readonly blksize: number = 4096;
  readonly blocks: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly birthtimeMs: number;

  constructor(kind: "file" | "directory", size: number, mtimeMs: number, perm: number, ino: number) {
    this.mode = (kind === "file" ? S_IFREG : S_IFDIR) | (perm & 0o7777);
    this.size = size;
    this.blocks = Math.ceil(size / 512);
    this.atimeMs = mtimeMs;
    this.mtimeMs = mtimeMs;
    this.ctimeMs = mtimeMs;
    this.birthtimeMs = mtimeMs;
    this.ino = ino;
  }

  get atime(): Date {
    return new Date(this.atimeMs);
  }
  get mtime(): Date {
    return new Date(this.mtimeMs);
  }
  get ctime(): Date {
    return new Date(this.ctimeMs);
  }
  get birthtime(): Date {
    return new Date(this.birthtimeMs);
  }
  isFile(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }
  isDirectory(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }
  isBlockDevice(): boolean {
    return false;
  }
  isCharacterDevice(): boolean {
    return false;
  }
  isFIFO(): boolean {
    return false;
  }
  isSocket(): boolean {
    return false;
  }
}

/** What `readdir(path, { withFileTypes: true })` yields. */
export class WorkspaceDirent {
  readonly name: string;
  readonly parentPath: string;
  /** Deprecated alias of `parentPath`, as in Node 20. */
  readonly path: string;
  readonly #type: "file" | "directory" | "symlink";

  constructor(name: string, parentPath: string, type: "file" | "directory" | "symlink") {
    this.name = name;
    this.parentPath = parentPath;
    this.path = parentPath;
    this.#type = type;
  }
  isFile(): boolean {
    return this.#type === "file";
  }
  isDirectory(): boolean {
    return this.#type === "directory";
  }
  isSymbolicLink(): boolean {
    return this.#type === "symlink";
  }
  isBlockDevice(): boolean {
    return false;
  }
  isCharacterDevice(): boolean {
    return false;
  }
  isFIFO(): boolean {
    return false;
  }
  isSocket(): boolean {
    return false;
  }
}
