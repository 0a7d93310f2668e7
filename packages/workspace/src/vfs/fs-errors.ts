import { fsError, type MountError, toMountError } from "@ws/core";

/**
 * The one place `ws.fs` errors are made. The Node-style formatting itself lives in `@ws/core`
 * (`fsError`, `toMountError`), shared with every provider; here every failure leaving `ws.fs`
 * becomes that one kind of error: a `MountError` with Node's `code`, `errno`, `path` and
 * `syscall` (`ENOENT: no such file or directory, open '/a/b'`), never a raw memfs error.
 */
export { fsError };

/** Any error raised under `ws.fs` as a `MountError` about the workspace path (original as cause). */
export function toFsError(error: unknown, path: string, syscall: string): MountError {
  return toMountError(error, { path, syscall });
}
