/**
 * One error class for the whole project. Every failure a user can act on carries a POSIX-style
 * `code`, so callers can `switch (err.code)` the way they do for `node:fs` errors.
 */

/** The codes this project raises. Node-compatible names, so `ws.fs` errors look like `node:fs` errors. */
export type MountErrorCode =
  | "EACCES"
  | "EAGAIN"
  /** (ws mounts) A closed file handle (`ws.fs.open`). */
  | "EBADF"
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
  EAGAIN: -11,
  EBADF: -9,
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
  /**
   * Worth retrying: the same request may succeed later (a 503, a reset connection, a timeout, a
   * rate limit). Default false. Only the retry layer of `@ws/provider-kit` acts on it.
   */
  readonly transient?: boolean | undefined;
  /** How many attempts were made before this error was final (set by `markPersistent`). */
  readonly attempts?: number | undefined;
  /** The server asked to wait this long before trying again (a `Retry-After` header), in milliseconds. */
  readonly retryAfterMs?: number | undefined;
}

export class MountError extends Error {
  override readonly name: string = "MountError";
  readonly code: MountErrorCode;
  readonly errno: number;
  readonly path: string | undefined;
  readonly root: string | undefined;
  readonly syscall: string | undefined;
  readonly quota: QuotaDetails | undefined;
  /** Worth retrying (see `MountErrorOptions.transient`). False once retries gave up (`markPersistent`). */
  readonly transient: boolean;
  /** Attempts made before the error became final; `undefined` when nothing retried it. */
  readonly attempts: number | undefined;
  /** The wait the server asked for before another attempt, in milliseconds. */
  readonly retryAfterMs: number | undefined;

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
    this.transient = options.transient ?? false;
    this.attempts = options.attempts;
    this.retryAfterMs = options.retryAfterMs;
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

/** True for a MountError (from any copy of @ws/core) marked `transient`: the retry layer may try again. */
export function isTransient(error: unknown): boolean {
  return MountError.isInstance(error) && (error as { transient?: unknown }).transient === true;
}

/** The options a MountError was made with, so a copy can change one of them. */
export function mountErrorOptions(error: MountError): MountErrorOptions {
  return {
    path: error.path,
    root: error.root,
    syscall: error.syscall,
    cause: error.cause,
    quota: error.quota,
    transient: error.transient,
    attempts: error.attempts,
    retryAfterMs: error.retryAfterMs,
  };
}

/** The message without the `CODE: ` prefix the constructor adds. */
function bareMessage(error: MountError): string {
  const prefix = `${error.code}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

/**
 * A copy of `error` that no retry layer will try again: `transient` false, `attempts` set, and the
 * message saying how many attempts were made. Used by the retry layer when it gives up, so an outer
 * layer (or the workspace's write-back) does not multiply the attempts.
 */
export function markPersistent(error: MountError, attempts: number): MountError {
  const message =
    attempts > 1 ? `${bareMessage(error)} (gave up after ${attempts} attempts)` : bareMessage(error);
  const copy = new MountError(error.code, message, {
    ...mountErrorOptions(error),
    transient: false,
    attempts,
  });
  if (error.stack) copy.stack = error.stack.replace(error.message, copy.message);
  return copy;
}

/**
 * A copy of `error` with the given path, root or syscall filled in where it has none. The same
 * error when nothing changes.
 */
export function withErrorContext(
  error: MountError,
  context: {
    readonly path?: string | undefined;
    readonly root?: string | undefined;
    readonly syscall?: string | undefined;
  },
): MountError {
  const path = error.path ?? context.path;
  const root = error.root ?? context.root;
  const syscall = error.syscall ?? context.syscall;
  if (path === error.path && root === error.root && syscall === error.syscall) return error;
  const copy = new MountError(error.code, bareMessage(error), {
    ...mountErrorOptions(error),
    path,
    root,
    syscall,
  });
  if (error.stack) copy.stack = error.stack;
  return copy;
}

const FS_TEXT: Partial<Record<MountErrorCode, string>> = {
  ENOENT: "no such file or directory",
  EEXIST: "file already exists",
  EISDIR: "illegal operation on a directory",
  ENOTDIR: "not a directory",
  ENOTEMPTY: "directory not empty",
  EBUSY: "resource busy or locked",
  EBADF: "bad file descriptor",
  EINVAL: "invalid argument",
  ENOTSUP: "operation not supported",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ELOOP: "too many symbolic links encountered",
  ENAMETOOLONG: "name too long",
  EXDEV: "cross-device link not permitted",
};

/**
 * A MountError worded like a `node:fs` error: `ENOENT: no such file or directory, open '/w/a'`,
 * plus an optional detail. The one place the workspace's `fs` errors are formatted.
 */
export function fsError(code: MountErrorCode, syscall: string, path: string, detail?: string): MountError {
  const base = `${FS_TEXT[code] ?? code.toLowerCase()}, ${syscall} '${path}'`;
  return new MountError(code, detail ? `${base}: ${detail}` : base, { path, syscall });
}

const CODES = new Set<string>(Object.keys(ERRNO));

/**
 * Any error as a MountError, so `ws.fs` throws one kind of error: a MountError passes through
 * (with path and syscall filled in where missing); a Node-style error (`{ code: "ENOENT", ... }`,
 * as memfs and node:fs throw) becomes a MountError with the same code and a node:fs message; anything
 * else becomes `EIO` with the original as `cause`.
 */
export function toMountError(
  error: unknown,
  context: { readonly path?: string; readonly syscall?: string } = {},
): MountError {
  if (MountError.isInstance(error)) return withErrorContext(error, context);
  const e = error as
    | { code?: unknown; syscall?: unknown; path?: unknown; message?: unknown }
    | null
    | undefined;
  const code = typeof e?.code === "string" && CODES.has(e.code) ? (e.code as MountErrorCode) : undefined;
  const syscall = context.syscall ?? (typeof e?.syscall === "string" ? e.syscall : "io");
  const path = context.path ?? (typeof e?.path === "string" ? e.path : "");
  if (code !== undefined) {
    const made = fsError(code, syscall, path);
    return new MountError(code, bareMessage(made), { path, syscall, cause: error });
  }
  const reason = typeof e?.message === "string" ? e.message : String(error);
  return new MountError("EIO", `${syscall} '${path}' failed: ${reason}`, { path, syscall, cause: error });
}
