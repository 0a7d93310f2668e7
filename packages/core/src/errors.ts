/**
 * One error class for the whole project. Every failure a user can act on carries a POSIX-style
 * `code`, so callers can `switch (err.code)` the way they do for `node:fs` errors.
 */

/** The codes this project raises. Node-compatible names, so `ws.fs` errors look like `node:fs` errors. */
export type MountErrorCode =
  | "EACCES"
  | "EBUSY"
  | "ECANCELED"
  | "EDQUOT"
  | "EEXIST"
  | "EINVAL"
  | "EIO"
  | "EISDIR"
  | "ELOOP"
  | "ENAMETOOLONG"
  | "ENOENT"
  | "ENOTDIR"
  | "ENOTEMPTY"
  | "ENOTSUP"
  | "EPERM"
  | "EROFS"
  | "ESTALE"
  | "ETIMEDOUT"
  | "EXDEV";

// Linux errno values, negated as libuv reports them. Hard-coded rather than read from node:os so
// that @ws/core also loads in Workers and browsers.
const ERRNO: Readonly<Record<MountErrorCode, number>> = {
  EACCES: -13,
  EBUSY: -16,
  ECANCELED: -125,
  EDQUOT: -122,
  EEXIST: -17,
  EINVAL: -22,
  EIO: -5,
  EISDIR: -21,
  ELOOP: -40,
  ENAMETOOLONG: -36,
  ENOENT: -2,
  ENOTDIR: -20,
  ENOTEMPTY: -39,
  ENOTSUP: -95,
  EPERM: -1,
  EROFS: -30,
  ESTALE: -116,
  ETIMEDOUT: -110,
  EXDEV: -18,
};

const MARKER = Symbol.for("@ws/core/MountError");

/** Which quota an `EDQUOT` error is about, and by how much it was exceeded. */
export interface QuotaDetails {
  readonly limit: "maxBytes" | "maxEntries";
  readonly max: number;
  readonly observed: number;
}

export interface MountErrorOptions {
  /** The absolute path (or, before a root is known, the relative path) the error is about. */
  readonly path?: string | undefined;
  /** The mount root the path belongs to. */
  readonly root?: string | undefined;
  /** The operation, in `node:fs` terms (`open`, `scandir`, `unlink`...), when there is one. */
  readonly syscall?: string | undefined;
  /** The provider's or the runtime's original error. */
  readonly cause?: unknown;
  /** Set on `EDQUOT`. */
  readonly quota?: QuotaDetails | undefined;
}

export class MountError extends Error {
  override readonly name: string = "MountError";
  readonly code: MountErrorCode;
  readonly errno: number;
  readonly path: string | undefined;
  readonly root: string | undefined;
  readonly syscall: string | undefined;
  readonly quota: QuotaDetails | undefined;

  /**
   * @param message What happened and what to do about it. The code is prefixed for you,
   *   so messages read like Node's: `EROFS: /workspace/skills is a read-only mount...`.
   */
  constructor(code: MountErrorCode, message: string, options: MountErrorOptions = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.errno = ERRNO[code];
    this.path = options.path;
    this.root = options.root;
    this.syscall = options.syscall;
    this.quota = options.quota;
    // A registered symbol rather than a class field, so every copy of @ws/core agrees on it.
    Object.defineProperty(this, MARKER, { value: true });
  }

  /**
   * True for a MountError from any copy of @ws/core. `instanceof` fails when two versions of the
   * package sit in one node_modules; the registered symbol does not.
   */
  static isInstance(error: unknown): error is MountError {
    return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }

  /** True when `error` is a MountError (from any copy of @ws/core) with this code. */
  static hasCode(error: unknown, code: MountErrorCode): error is MountError {
    return MountError.isInstance(error) && error.code === code;
  }
}

/** `ENOENT` for a path that does not exist. */
export function notFound(path: string, options: Omit<MountErrorOptions, "path"> = {}): MountError {
  const where = options.root ? ` in mount ${options.root}` : "";
  return new MountError("ENOENT", `no such file or directory: ${path}${where}`, { ...options, path });
}

/** `EROFS` for a write under a read-only mount. */
export function readOnly(path: string, root: string | undefined, syscall?: string): MountError {
  const where = root ? `${root} is a read-only mount (mode: "read-only")` : "the mount is read-only";
  return new MountError(
    "EROFS",
    `cannot modify ${path}: ${where}; pass mode: "read-write" to write through`,
    {
      path,
      root,
      syscall,
    },
  );
}

/** `EINVAL` for an argument that can never be valid. */
export function invalid(message: string, options: MountErrorOptions = {}): MountError {
  return new MountError("EINVAL", message, options);
}
