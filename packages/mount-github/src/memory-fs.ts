/**
 * The smallest in-memory file system isomorphic-git's `clone` needs (its `promises` API: readFile,
 * writeFile, mkdir, rmdir, unlink, stat, lstat, readdir, readlink, symlink, chmod). Files keep the
 * bytes they were given, without copies, so a pack written by the clone costs its size once.
 * Nothing here touches the host's disk.
 */

interface Node {
  readonly kind: "file" | "dir" | "link";
  bytes?: Uint8Array;
  target?: string;
  mode: number;
  mtimeMs: number;
  children?: Map<string, Node>;
}

/**
 * A file-system error without a stack trace: isomorphic-git probes for loose objects and refs
 * that do not exist thousands of times per clone and only reads `code`, so capturing a stack for
 * each ENOENT would cost more than the lookup.
 */
function fsError(code: string, syscall: string, path: string): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const error = new Error(`${code}: ${syscall} '${path}'`) as Error & { code: string; path: string };
  Error.stackTraceLimit = limit;
  error.code = code;
  error.path = path;
  return error;
}

function split(path: string): string[] {
  const parts: string[] = [];
  for (const s of path.split("/")) if (s !== "" && s !== ".") parts.push(s);
  return parts;
}

class Stats {
  readonly type: Node["kind"];
  readonly mode: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly mtime: Date;
  readonly ctime: Date;
  readonly uid = 0;
  readonly gid = 0;
  readonly dev = 0;
  readonly ino = 0;

  constructor(node: Node) {
    this.type = node.kind;
    this.mode = node.mode;
    this.size = node.kind === "file" ? (node.bytes?.length ?? 0) : 0;
    this.mtimeMs = node.mtimeMs;
    this.ctimeMs = node.mtimeMs;
    this.mtime = new Date(node.mtimeMs);
    this.ctime = this.mtime;
  }
  isFile(): boolean {
    return this.type === "file";
  }
  isDirectory(): boolean {
    return this.type === "dir";
  }
  isSymbolicLink(): boolean {
    return this.type === "link";
  }
}

/** An in-memory file system with the callback-free `promises` shape isomorphic-git accepts. */
export class MemoryFs {
  readonly #root: Node = { kind: "dir", mode: 0o40755, mtimeMs: Date.now(), children: new Map() };
  readonly promises: MemoryFsPromises;

  constructor() {
    this.promises = new MemoryFsPromises(this);
  }

  /** Total bytes held in files (the pack and its index, mostly). */
  get bytes(): number {
    let total = 0;
    const walk = (node: Node): void => {
      if (node.bytes) total += node.bytes.length;
      for (const child of node.children?.values() ?? []) walk(child);
    };
    walk(this.#root);
    return total;
  }

  lookup(path: string, syscall: string): { node: Node | undefined; parent: Node; name: string } {
    const parts = split(path);
    let parent = this.#root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = parent.children?.get(parts[i] ?? "");
      if (!next) throw fsError("ENOENT", syscall, path);
      if (next.kind !== "dir") throw fsError("ENOTDIR", syscall, path);
      parent = next;
    }
    const name = parts[parts.length - 1] ?? "";
    if (name === "") return { node: this.#root, parent: this.#root, name };
    return { node: parent.children?.get(name), parent, name };
  }
}

class MemoryFsPromises {
  readonly #fs: MemoryFs;
  constructor(fs: MemoryFs) {
    this.#fs = fs;
  }

  async readFile(path: string, options?: { encoding?: string } | string): Promise<Uint8Array | string> {
    const { node } = this.#fs.lookup(path, "open");
    if (!node) throw fsError("ENOENT", "open", path);
    if (node.kind === "dir") throw fsError("EISDIR", "read", path);
    const bytes = node.bytes ?? new Uint8Array(0);
    const encoding = typeof options === "string" ? options : options?.encoding;
    if (encoding === "utf8" || encoding === "utf-8") return new TextDecoder().decode(bytes);
    return bytes;
  }

  async writeFile(
    path: string,
    data: Uint8Array | string,
    options?: { mode?: number } | string,
  ): Promise<void> {
    const { node, parent, name } = this.#fs.lookup(path, "open");
    if (node?.kind === "dir") throw fsError("EISDIR", "open", path);
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const mode = typeof options === "object" && options?.mode !== undefined ? options.mode : 0o644;
    parent.children?.set(name, { kind: "file", bytes, mode: 0o100000 | (mode & 0o777), mtimeMs: Date.now() });
  }

  async mkdir(path: string, options?: { recursive?: boolean } | number): Promise<void> {
    const recursive = typeof options === "object" && options?.recursive === true;
    if (recursive) {
      let current = "";
      for (const part of split(path)) {
        current += `/${part}`;
        const { node, parent, name } = this.#fs.lookup(current, "mkdir");
        if (node && node.kind !== "dir") throw fsError("ENOTDIR", "mkdir", current);
        if (!node)
          parent.children?.set(name, {
            kind: "dir",
            mode: 0o40755,
            mtimeMs: Date.now(),
            children: new Map(),
          });
      }
      return;
    }
    const { node, parent, name } = this.#fs.lookup(path, "mkdir");
    if (node) throw fsError("EEXIST", "mkdir", path);
    parent.children?.set(name, { kind: "dir", mode: 0o40755, mtimeMs: Date.now(), children: new Map() });
  }

  async rmdir(path: string): Promise<void> {
    const { node, parent, name } = this.#fs.lookup(path, "rmdir");
    if (!node) throw fsError("ENOENT", "rmdir", path);
    if (node.kind !== "dir") throw fsError("ENOTDIR", "rmdir", path);
    if ((node.children?.size ?? 0) > 0) throw fsError("ENOTEMPTY", "rmdir", path);
    parent.children?.delete(name);
  }

  async unlink(path: string): Promise<void> {
    const { node, parent, name } = this.#fs.lookup(path, "unlink");
    if (!node) throw fsError("ENOENT", "unlink", path);
    if (node.kind === "dir") throw fsError("EISDIR", "unlink", path);
    parent.children?.delete(name);
  }

  async readdir(path: string): Promise<string[]> {
    const { node } = this.#fs.lookup(path, "scandir");
    if (!node) throw fsError("ENOENT", "scandir", path);
    if (node.kind !== "dir") throw fsError("ENOTDIR", "scandir", path);
    return [...(node.children?.keys() ?? [])];
  }

  async stat(path: string): Promise<Stats> {
    return this.lstat(path);
  }

  async lstat(path: string): Promise<Stats> {
    const { node } = this.#fs.lookup(path, "lstat");
    if (!node) throw fsError("ENOENT", "lstat", path);
    return new Stats(node);
  }

  async readlink(path: string): Promise<string> {
    const { node } = this.#fs.lookup(path, "readlink");
    if (!node) throw fsError("ENOENT", "readlink", path);
    if (node.kind !== "link") throw fsError("EINVAL", "readlink", path);
    return node.target ?? "";
  }

  async symlink(target: string, path: string): Promise<void> {
    const { node, parent, name } = this.#fs.lookup(path, "symlink");
    if (node) throw fsError("EEXIST", "symlink", path);
    parent.children?.set(name, { kind: "link", target, mode: 0o120777, mtimeMs: Date.now() });
  }

  async chmod(path: string, mode: number): Promise<void> {
    const { node } = this.#fs.lookup(path, "chmod");
    if (!node) throw fsError("ENOENT", "chmod", path);
    node.mode = (node.mode & ~0o777) | (mode & 0o777);
  }
}
