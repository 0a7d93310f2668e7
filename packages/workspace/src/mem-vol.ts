import { Volume } from "memfs";

/** The fields of a Stats object every `ws.fs.stat` result has (memfs's Stats and VirtualStats). */
export interface FileStats {
  readonly dev: number;
  readonly ino: number;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly birthtimeMs: number;
  readonly atime: Date;
  readonly mtime: Date;
  readonly ctime: Date;
  readonly birthtime: Date;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

export interface MemDirent {
  readonly name: string | Uint8Array;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/** The synchronous subset of memfs's Volume the workspace uses (memfs is in-memory: sync is exact). */
export interface MemVol {
  statSync(path: string): FileStats;
  lstatSync(path: string): FileStats;
  existsSync(path: string): boolean;
  readFileSync(path: string): Buffer;
  writeFileSync(path: string, data: Uint8Array, options?: { mode?: number }): void;
  openSync(path: string, flags: string, mode?: number): number;
  closeSync(fd: number): void;
  fstatSync(fd: number): FileStats;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  mkdirSync(path: string, options?: { recursive?: boolean; mode?: number }): string | undefined;
  readdirSync(path: string, options: { withFileTypes: true }): MemDirent[];
  unlinkSync(path: string): void;
  rmdirSync(path: string): void;
  rmSync(path: string, options?: { recursive?: boolean; force?: boolean }): void;
  renameSync(from: string, to: string): void;
  chmodSync(path: string, mode: number): void;
  utimesSync(path: string, atime: number | Date, mtime: number | Date): void;
  symlinkSync(target: string, path: string): void;
  readlinkSync(path: string): string;
  realpathSync(path: string): string;
}

export function createMemVol(): MemVol {
  return new Volume() as unknown as MemVol;
}

/**
 * Writes `bytes` as the file at `path` (creating or truncating it, like `writeFileSync`) and
 * returns whether memfs took ownership of `bytes` instead of copying them.
 *
 * Why: `writeFileSync(path, uint8array)` copies twice in memfs 4.x (`dataToBuffer` turns a plain
 * Uint8Array into a Buffer copy, then `Node.write` copies into a fresh, power-of-two sized
 * buffer), which dominates the first read of a large lazy file. With `adopt`, the caller promises
 * `bytes` is exclusively its own and never touched again (the LazyMount `fetch` contract), so the
 * file's node is pointed at a Buffer view over it: no copy, and no capacity slack. memfs still
 * copies on every read (`Node.getBuffer`, `Node.read`), and later writes either reallocate or write
 * into the adopted memory, which nobody else holds. Without `adopt` (or when the memfs internals are
 * missing), the bytes are handed over as a Buffer view so memfs copies them once, not twice.
 */
export function writeMemFile(
  vol: MemVol,
  path: string,
  bytes: Uint8Array,
  mode: number | undefined,
  adopt: boolean,
): boolean {
  const view = asBuffer(bytes);
  if (adopt && isExactArray(bytes) && adoptSupported()) {
    // The same open-then-close as writeFileSync (flag "w": create or truncate, mode applied on
    // create), with the node's buffer set instead of written.
    const fd = vol.openSync(path, "w", mode);
    try {
      const node = (vol as unknown as MemfsInternals)._core.getFileByFdOrThrow(fd, "write").node;
      node._setBuf(view);
    } finally {
      vol.closeSync(fd);
    }
    return true;
  }
  vol.writeFileSync(path, view, mode === undefined ? {} : { mode });
  return false;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A view over a plain, fixed-length ArrayBuffer (not shared, not resizable: nobody can change it under memfs). */
function isPlainArray(bytes: Uint8Array): boolean {
  const ab = bytes.buffer as ArrayBuffer & { readonly resizable?: boolean };
  return ab instanceof ArrayBuffer && ab.resizable !== true;
}

/**
 * Only an array that is the whole of a plain, fixed-length ArrayBuffer is adopted: a view into a
 * larger buffer (a pool slab, a network chunk) would keep that whole buffer alive and could share
 * memory with someone else; shared or resizable buffers could change under memfs.
 */
function isExactArray(bytes: Uint8Array): boolean {
  const ab = bytes.buffer as ArrayBuffer & { readonly resizable?: boolean };
  return (
    ab instanceof ArrayBuffer &&
    ab.resizable !== true &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === ab.byteLength
  );
}

/**
 * The memfs internals `writeMemFile` relies on, checked against memfs 4.80.1 (@jsonjoy.com/fs-core
 * 4.80.1): `Volume#_core` is the Superblock, `Superblock#getFileByFdOrThrow(fd)` returns the open
 * File, whose `node` is the file's Node; `Node#_setBuf(buf)` makes `buf` the content (size and
 * capacity = its length) and touches mtime/ctime, exactly as the end of a write does.
 */
interface MemfsInternals {
  readonly _core: {
    getFileByFdOrThrow(fd: number, syscall: string): { readonly node: MemfsNode };
  };
}

interface MemfsNode {
  _setBuf(buf: Buffer): void;
}

let adoptProbe: boolean | undefined;

/**
 * Whether this memfs has the internals, checked once on a scratch volume: the shape, and that an
 * adopted file reads back, grows on append and shrinks on truncate. Any surprise (a memfs upgrade
 * that renamed or reworked them) makes every write take the copying, public `writeFileSync` path.
 */
function adoptSupported(): boolean {
  if (adoptProbe !== undefined) return adoptProbe;
  adoptProbe = false;
  try {
    const vol = new Volume();
    const core = (vol as unknown as Partial<MemfsInternals>)._core;
    if (typeof core?.getFileByFdOrThrow !== "function") return false;
    const fd = vol.openSync("/probe", "w");
    try {
      const node: Partial<MemfsNode> | undefined = core.getFileByFdOrThrow(fd, "write").node;
      if (typeof node?._setBuf !== "function") return false;
      node._setBuf(Buffer.from(new Uint8Array([1, 2, 3]).buffer));
    } finally {
      vol.closeSync(fd);
    }
    vol.appendFileSync("/probe", Buffer.from([4]));
    if (!Buffer.from([1, 2, 3, 4]).equals(vol.readFileSync("/probe") as Buffer)) return false;
    vol.truncateSync("/probe", 2);
    if (!Buffer.from([1, 2]).equals(vol.readFileSync("/probe") as Buffer)) return false;
    adoptProbe = vol.statSync("/probe").size === 2;
  } catch {
    adoptProbe = false;
  }
  return adoptProbe;
}

/**
 * False when memfs certainly has nothing at `path` (following a last-component link with
 * `follow`), true when it may: the caller then asks `lstatSync`/`statSync` as before.
 *
 * Why: most lookups of a lazy workspace miss memfs (every stub is outside it), and a miss through
 * `lstatSync` builds and throws an Error with a stack trace, about an eighth of the host's CPU per
 * cold read. memfs's own walk (`Superblock#walk(path, resolveSymlinks, checkExistence = false,
 * checkAccess = false)`, checked against @jsonjoy.com/fs-core 4.80.1) answers `{ ok: true, value:
 * null }` for a missing path without making any error. Anything else (a node, a path through a
 * file, a loop) falls back to the throwing call, so answers never change, only their cost.
 */
export function memMayHave(vol: object, path: string, follow: boolean): boolean {
  if (!walkSupported()) return true;
  const result = (vol as unknown as WalkInternals)._core?.walk?.(path, follow, false, false);
  return !(result?.ok === true && result.value === null);
}

interface WalkInternals {
  readonly _core?: {
    walk?(
      path: string,
      resolveSymlinks: boolean,
      checkExistence: boolean,
      checkAccess: boolean,
    ): { readonly ok: boolean; readonly value?: unknown };
  };
}

let walkProbe: boolean | undefined;

/** Whether memfs's walk answers as `memMayHave` expects, checked once on a scratch volume. */
function walkSupported(): boolean {
  if (walkProbe !== undefined) return walkProbe;
  walkProbe = false;
  try {
    const vol = new Volume();
    vol.mkdirSync("/d");
    vol.writeFileSync("/d/f", "x");
    vol.symlinkSync("/d/gone", "/d/l");
    const walk = (vol as unknown as WalkInternals)._core?.walk;
    if (typeof walk !== "function") return false;
    const core = (vol as unknown as WalkInternals)._core;
    const missing = walk.call(core, "/d/nope", false, false, false);
    const file = walk.call(core, "/d/f", false, false, false);
    const link = walk.call(core, "/d/l", false, false, false);
    const dangling = walk.call(core, "/d/l", true, false, false);
    walkProbe =
      missing.ok === true &&
      missing.value === null &&
      file.ok === true &&
      file.value !== null &&
      file.value !== undefined &&
      link.ok === true &&
      link.value !== null &&
      link.value !== undefined &&
      dangling.ok === true &&
      dangling.value === null;
  } catch {
    walkProbe = false;
  }
  return walkProbe;
}

/**
 * Returns a function that writes a new file at an absolute path, like `writeMemFile(..., adopt)`,
 * but resolves each parent directory once instead of walking the whole path for every file (an
 * eager commit creates thousands of files in a few directories; the walks, file descriptors and
 * change events of `openSync` cost more than the file itself). The parent must exist. A path that
 * already exists, or bytes over a shared or resizable buffer, take `writeMemFile`, so its
 * create-or-truncate semantics hold for every call. memfs's change events are not emitted for
 * files made directly: nothing in the workspace subscribes to them.
 *
 * Unlike `writeMemFile`, a view into a larger buffer is adopted as it is: every array a commit
 * hands over is the stage's own (its copy, or one the provider gave up through `adoptFile`, such
 * as a file's range of an inflated chunk whose other ranges are the bundle's other files). memfs
 * keeps the view and never writes outside it; the buffer behind it lives as long as any such file.
 */
export function memFileCreator(
  vol: MemVol,
): (path: string, bytes: Uint8Array, mode: number | undefined) => void {
  const slow = (path: string, bytes: Uint8Array, mode: number | undefined): void => {
    writeMemFile(vol, path, bytes, mode, true);
  };
  if (!directCreateSupported() || !adoptSupported()) return slow;
  const core = (vol as unknown as DirectInternals)._core;
  const dirs = new Map<string, MemfsLink>();
  return (path, bytes, mode) => {
    const slash = path.lastIndexOf("/");
    const name = path.slice(slash + 1);
    const dir = slash <= 0 ? "/" : path.slice(0, slash);
    let link = dirs.get(dir);
    if (!link) {
      link = core.getResolvedLinkOrThrow(dir, "open");
      dirs.set(dir, link);
    }
    if (name === "" || name === "." || name === ".." || link.children.has(name) || !isPlainArray(bytes)) {
      slow(path, bytes, mode);
      return;
    }
    core
      .createLink(link, name, false, mode ?? 0o666)
      .getNode()
      ._setBuf(asBuffer(bytes));
  };
}

/**
 * What `memFileCreator` adds to the internals above, checked against @jsonjoy.com/fs-core 4.80.1:
 * `Superblock#getResolvedLinkOrThrow(path)` is the directory's Link (symlinks followed, as `open`
 * resolves a parent), `Link#children` its entries by name, and `Superblock#createLink(parent,
 * name, false, perm)` makes a regular file there with that permission (uid and gid of the process,
 * parent's mtime touched), exactly what `open(path, "w", perm)` does for a new path.
 */
interface DirectInternals {
  readonly _core: {
    getResolvedLinkOrThrow(path: string, syscall: string): MemfsLink;
    createLink(parent: MemfsLink, name: string, isDirectory: boolean, mode: number): MemfsLink;
  };
}

interface MemfsLink {
  readonly children: Map<string, unknown>;
  getNode(): MemfsNode;
}

let directProbe: boolean | undefined;

/** Whether `memFileCreator`'s internals work as described, checked once on a scratch volume. */
function directCreateSupported(): boolean {
  if (directProbe !== undefined) return directProbe;
  directProbe = false;
  try {
    const vol = new Volume();
    const core = (vol as unknown as Partial<DirectInternals>)._core;
    if (typeof core?.getResolvedLinkOrThrow !== "function" || typeof core.createLink !== "function")
      return false;
    vol.mkdirSync("/d");
    const link = core.getResolvedLinkOrThrow("/d", "open");
    if (!(link.children instanceof Map) || link.children.has("f")) return false;
    core
      .createLink(link, "f", false, 0o640)
      .getNode()
      ._setBuf(Buffer.from(new Uint8Array([1, 2, 3]).buffer));
    const st = vol.statSync("/d/f");
    directProbe =
      Buffer.from([1, 2, 3]).equals(vol.readFileSync("/d/f") as Buffer) &&
      st.isFile() &&
      (st.mode & 0o7777) === 0o640 &&
      st.size === 3 &&
      link.children.has("f") &&
      (vol.readdirSync("/d") as unknown[]).includes("f");
  } catch {
    directProbe = false;
  }
  return directProbe;
}

/**
 * Permission bits are metadata the workspace carries, not a lock against itself: the host reads
 * what it mirrors, and writes what a command made, whatever the file's or its folder's mode (git
 * writes its objects 0o444; `tar x` creates a 0o555 folder before its files). memfs checks
 * permissions against `process.getuid()` like a non-root kernel would, so every host-internal
 * access goes through `hostAccess(vol)`, a view of the same volume whose calls skip those checks.
 * `ws.fs` keeps them for a non-root process and drops them for root (as the kernel does, except
 * that root runs a file only when some execute bit is set).
 *
 * How: memfs is synchronous, so a counter raised around one call of the view cannot leak into
 * another caller; the permission methods of memfs's Node (`canRead`, `canWrite`, `canExecute`,
 * checked against @jsonjoy.com/fs-core 4.80.1) consult it first. Without those methods (a memfs
 * upgrade that renamed them) the view is the volume itself and permissions apply as before.
 */
export function hostAccess(vol: MemVol): MemVol {
  if (!permissionPatch()) return vol;
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(vol, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      let wrapped = cache.get(prop);
      if (!wrapped) {
        wrapped = (...args: unknown[]): unknown => {
          bypass++;
          try {
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          } finally {
            bypass--;
          }
        };
        cache.set(prop, wrapped);
      }
      return wrapped;
    },
  });
}

/** True when this process runs as root (uid 0), for which the kernel skips read/write permission checks. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

let bypass = 0;
let patched: boolean | undefined;

interface PermissionNode {
  readonly perm: number;
  isDirectory(): boolean;
  canRead(uid?: number, gid?: number): boolean;
  canWrite(uid?: number, gid?: number): boolean;
  canExecute(uid?: number, gid?: number): boolean;
}

function permissionPatch(): boolean {
  if (patched !== undefined) return patched;
  patched = false;
  try {
    const vol = new Volume();
    const core = (vol as unknown as Partial<MemfsInternals>)._core;
    if (typeof core?.getFileByFdOrThrow !== "function") return false;
    const fd = vol.openSync("/probe", "w");
    let proto: PermissionNode;
    try {
      proto = Object.getPrototypeOf(core.getFileByFdOrThrow(fd, "open").node) as PermissionNode;
    } finally {
      vol.closeSync(fd);
    }
    const { canRead, canWrite, canExecute } = proto;
    if (typeof canRead !== "function" || typeof canWrite !== "function" || typeof canExecute !== "function")
      return false;
    Object.defineProperties(proto, {
      canRead: {
        configurable: true,
        writable: true,
        value(this: PermissionNode, ...args: [number?, number?]): boolean {
          return bypass > 0 || canRead.apply(this, args);
        },
      },
      canWrite: {
        configurable: true,
        writable: true,
        value(this: PermissionNode, ...args: [number?, number?]): boolean {
          return bypass > 0 || canWrite.apply(this, args);
        },
      },
      canExecute: {
        configurable: true,
        writable: true,
        value(this: PermissionNode, ...args: [number?, number?]): boolean {
          return bypass > 0 || canExecute.apply(this, args);
        },
      },
    });
    patched = true;
  } catch {
    patched = false;
  }
  return patched;
}
