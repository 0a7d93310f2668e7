import { MountError } from "@ws/core";

/**
 * A failure inside a decompressor or an archive parser becomes `EIO` (the bytes are damaged,
 * truncated or lie about themselves); a MountError raised by a guard passes through unchanged.
 */
export function archiveError(error: unknown, what: string, root: string | undefined): MountError {
  if (MountError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new MountError("EIO", `${what} is damaged or truncated: ${message}`, {
    path: root,
    root,
    cause: error,
  });
}
