import { S_IFDIR, S_IFLNK, S_IFMT } from "./types.js";

/** Regular file type bits (`S_IFREG`). */
const S_IFREG = 0o100000;
const TYPES = new Set([S_IFREG, S_IFDIR, S_IFLNK]);

/** (ws mounts) A file's POSIX metadata as object stores keep it. */
export interface PosixMetadata {
  /** Permission bits, with `S_IFLNK` type bits for a symbolic link. */
  readonly mode?: number | undefined;
  /** Milliseconds since the epoch. */
  readonly mtime?: number | undefined;
}

/**
 * (ws mounts) The user metadata an object store keeps for a file's mode and mtime, in **s3fs's
 * convention** (`x-amz-meta-mode`: the whole `st_mode` in decimal, type bits included, so
 * `33188` for a 0o644 file and `41471` for a link; `x-amz-meta-mtime`: whole seconds since the
 * epoch). rclone reads the same `mtime` key. Names are returned without the `x-amz-meta-` prefix
 * (the S3 SDK's `Metadata`, R2's `customMetadata`). A symbolic link is stored as s3fs stores it:
 * the object's body is the target, and `mode` carries `S_IFLNK`.
 */
export function encodePosixMetadata(options: {
  readonly mode?: number | undefined;
  readonly mtime?: number | undefined;
  readonly symlink?: string | undefined;
}): Record<string, string> {
  const out: Record<string, string> = {};
  if (options.symlink !== undefined) out.mode = String(S_IFLNK | 0o777);
  else if (options.mode !== undefined && Number.isInteger(options.mode) && options.mode >= 0) {
    // A folder's marker (mkdir passes S_IFDIR with its bits) keeps the directory type, as s3fs.
    const type = (options.mode & S_IFMT) === S_IFDIR ? S_IFDIR : S_IFREG;
    out.mode = String(type | (options.mode & 0o7777));
  }
  if (options.mtime !== undefined && Number.isFinite(options.mtime))
    out.mtime = String(Math.floor(options.mtime / 1000));
  return out;
}

/**
 * (ws mounts) Reads a file's mode and mtime from an object's user metadata, whichever tool wrote
 * it: s3fs (`mode` in decimal, `mtime` in seconds), rclone (`mode` in octal, `mtime` as
 * RFC 3339 or fractional seconds), or ws mounts (s3fs's form). Unreadable values are ignored.
 * Keys are matched case-insensitively, with or without the `x-amz-meta-` prefix.
 */
export function decodePosixMetadata(
  meta: Readonly<Record<string, string | undefined>> | undefined,
): PosixMetadata {
  if (!meta) return {};
  let rawMode: string | undefined;
  let rawMtime: string | undefined;
  for (const [name, value] of Object.entries(meta)) {
    const key = name.toLowerCase().replace(/^x-amz-meta-/, "");
    if (key === "mode") rawMode = value;
    else if (key === "mtime") rawMtime = value;
  }
  const mode = parseMode(rawMode?.trim());
  const mtime = parseMtime(rawMtime?.trim());
  return { ...(mode === undefined ? {} : { mode }), ...(mtime === undefined ? {} : { mtime }) };
}

function validMode(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && (value <= 0o7777 || TYPES.has(value & S_IFMT));
}

/**
 * s3fs writes the whole `st_mode` in decimal (`33188`), rclone octal (`100644`, `644`). Decimal
 * when it is a whole `st_mode` (at most 0o177777, with file type bits), else octal.
 */
function parseMode(raw: string | undefined): number | undefined {
  if (!raw || !/^\d+$/.test(raw)) return undefined;
  const decimal = Number(raw);
  if (decimal > 0o7777 && decimal <= 0o177777 && TYPES.has(decimal & S_IFMT)) return decimal;
  if (/^[0-7]+$/.test(raw)) {
    const octal = Number.parseInt(raw, 8);
    if (validMode(octal) && octal <= 0o177777) return octal;
  }
  return undefined;
}

function parseMtime(raw: string | undefined): number | undefined {
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) {
    const ms = Math.round(Number(raw) * 1000);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  const parsed = Date.parse(raw);
  return Number.isNaN(parsed) ? undefined : parsed;
}
