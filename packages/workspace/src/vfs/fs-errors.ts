import { MountError, type MountErrorCode } from "@ws/core";

/**
 * The one place `ws.fs` errors are made: every error leaving `ws.fs` is a `MountError` with
 * Node's `code`, `errno`, `path` and `syscall`, and a message shaped like Node's
 * (`ENOENT: no such file or directory, open '/a/b'`).
 */

const TEXT: Readonly<Partial<Record<MountErrorCode, string>>> = {
  ENOENT: "no such file or directory",
  EEXIST: "file already exists",
  EISDIR: "illegal operation on a directory",
  ENOTDIR: "not a directory",
  ENOTEMPTY: "directory not empty",
  EBUSY: "resource busy or locked",
  EINVAL: "invalid argument",
  ENOTSUP: "operation not supported",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ELOOP: "too many symbolic links encountered",
  ENAMETOOLONG: "name too long",
};

const CODES: ReadonlySet<string> = new Set<MountErrorCode>([
  "EACCES",
  "EBUSY",
  "ECANCELED",
  "EDQUOT",
  "EEXIST",
  "EINVAL",
  "EIO",
  "EISDIR",
  "ELOOP",
  "ENAMETOOLONG",
  "ENOENT",
  "ENOTDIR",
  "ENOTEMPTY",
  "ENOTSUP",
  "EPERM",
  "EROFS",
  "ESTALE",
  "ETIMEDOUT",
  "EXDEV",
]);

/** A Node-style error: `CODE: text, syscall 'path'` (and `: detail` when given). */
export function fsError(code: MountErrorCode, syscall: string, path: string, detail?: string): MountError {
  const base = `${TEXT[code] ?? code.toLowerCase()}, ${syscall} '${path}'`;
  return new MountError(code, detail ? `${base}: ${detail}` : base, { path, syscall });
}

/**
 * Any error raised under `ws.fs` (a memfs error, a runtime error) as a `MountError` about the
 * workspace path. A `MountError` passes through unchanged.
 */
export function toFsError(error: unknown, path: string, syscall: string): MountError {
  if (MountError.isInstance(error)) return error;
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code === "string" && CODES.has(code)) {
    const made = fsError(code as MountErrorCode, syscall, path);
    return new MountError(made.code, made.message.slice(made.code.length + 2), {
      path,
      syscall,
      cause: error,
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new MountError("EIO", `${syscall} '${path}' failed: ${reason}`, { path, syscall, cause: error });
}
