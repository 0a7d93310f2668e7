import { MountError } from "@ws/core";

export type ArchiveFormat = "tar" | "tar.gz" | "zip";

export const ARCHIVE_FORMATS: readonly ArchiveFormat[] = ["tar", "tar.gz", "zip"];

/** What the first bytes say the bundle is, or undefined when they match no supported format. */
export function sniffFormat(bytes: Uint8Array): ArchiveFormat | "zstd" | undefined {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return "tar.gz";
  if (
    bytes.length >= 4 &&
    bytes[0] === 0x50 &&
    bytes[1] === 0x4b &&
    ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6))
  )
    return "zip";
  if (bytes.length >= 4 && bytes[0] === 0x28 && bytes[1] === 0xb5 && bytes[2] === 0x2f && bytes[3] === 0xfd)
    return "zstd";
  if (isTar(bytes)) return "tar";
  return undefined;
}

/** A ustar/GNU magic at offset 257, or an empty tar (only zero blocks). */
function isTar(bytes: Uint8Array): boolean {
  if (bytes.length < 512 || bytes.length % 512 !== 0) {
    if (bytes.length < 263) return false;
  }
  const magic = String.fromCharCode(...bytes.subarray(257, 262));
  if (magic === "ustar") return true;
  if (bytes.length >= 1024 && bytes.length % 512 === 0) {
    for (let i = 0; i < 1024; i++) if (bytes[i] !== 0) return false;
    return true;
  }
  return false;
}

/**
 * The format to read the bundle with: the declared one if given (and the bytes do not contradict
 * it), else the sniffed one. A bundle that is neither is `EINVAL`, naming what was found.
 */
export function chooseFormat(
  bytes: Uint8Array,
  declared: ArchiveFormat | undefined,
  what: string,
  root?: string,
): ArchiveFormat {
  const sniffed = sniffFormat(bytes);
  const fail = (message: string, code: MountError["code"] = "EINVAL"): never => {
    throw new MountError(code, `${what}: ${message}`, { path: root, root });
  };
  if (bytes.length === 0) fail("the bundle is empty (0 bytes)");
  if (sniffed === "zstd")
    fail("the bundle is zstd-compressed; only tar, tar.gz and zip are supported", "ENOTSUP");
  if (declared === undefined) {
    if (sniffed === undefined)
      fail(
        "the bundle is not a tar, tar.gz or zip archive (no known magic bytes); pass format if it is an old tar without a ustar header",
      );
    return sniffed as ArchiveFormat;
  }
  if (declared === "tar" && sniffed === undefined) return "tar";
  if (sniffed !== declared)
    fail(`format is ${JSON.stringify(declared)} but the bytes look like ${sniffed ?? "no supported format"}`);
  return declared;
}
