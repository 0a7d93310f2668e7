import { relativePathProblem } from "@ws/core";
import { ListingFormatError } from "./parse-autoindex-json.js";

/** One file of a manifest, validated. */
export interface ManifestFile {
  readonly path: string;
  readonly size: number;
  readonly sha256?: string | undefined;
  readonly etag?: string | undefined;
  readonly mtime?: number | undefined;
  readonly mode?: number | undefined;
}

export interface ParsedManifest {
  readonly files: ManifestFile[];
  /** The `next` page as written (resolved against the page's URL by the caller). */
  readonly next?: string | undefined;
  readonly skipped: { readonly name: string; readonly reason: string }[];
}

const SHA256 = /^[0-9a-f]{64}$/;

function parseMtime(value: unknown): number | undefined | "invalid" {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") return Number.isFinite(value) ? value : "invalid";
  if (typeof value === "string") {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms : "invalid";
  }
  return "invalid";
}

function parseMode(value: unknown): number | undefined | "invalid" {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === "string" && /^0?[0-7]{3,4}$/.test(value) ? Number.parseInt(value, 8) : value;
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0o7777 ? n : "invalid";
}

/**
 * A JSON manifest page (the format is documented in the README):
 *
 * ```json
 * { "version": 1,
 *   "files": [{ "path": "docs/a.md", "size": 12, "sha256": "…", "etag": "\"v1\"", "mtime": "2026-01-01T00:00:00Z", "mode": "0644" }],
 *   "next": "manifest-2.json" }
 * ```
 *
 * `path` is the file's path under the base URL, `/`-separated and not percent-encoded; `size` is
 * required; the rest is optional. A file with an invalid field is skipped and reported, never
 * guessed at; a document that is not a manifest at all is an error.
 */
export function parseManifest(text: string): ParsedManifest {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ListingFormatError(`the manifest is not JSON: ${(error as Error).message}`);
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new ListingFormatError('a manifest is an object { "version": 1, "files": [...] }');
  }
  const { version, files, next } = document as Record<string, unknown>;
  if (version !== 1)
    throw new ListingFormatError(`manifest version ${JSON.stringify(version)} is not supported (1 is)`);
  if (!Array.isArray(files)) throw new ListingFormatError('a manifest needs a "files" array');
  if (next !== undefined && next !== null && (typeof next !== "string" || next === "")) {
    throw new ListingFormatError('"next" must be a non-empty string (the URL of the next page)');
  }
  const out: ManifestFile[] = [];
  const skipped: { name: string; reason: string }[] = [];
  for (const item of files as unknown[]) {
    if (typeof item !== "object" || item === null) {
      skipped.push({ name: String(item), reason: "not an object" });
      continue;
    }
    const record = item as Record<string, unknown>;
    const path = record["path"];
    if (typeof path !== "string") {
      skipped.push({ name: String(path), reason: "no path" });
      continue;
    }
    const problem = relativePathProblem(path);
    if (problem) {
      skipped.push({ name: path, reason: problem });
      continue;
    }
    const size = record["size"];
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
      skipped.push({ name: path, reason: `an invalid size (${JSON.stringify(size)})` });
      continue;
    }
    const sha256 = record["sha256"];
    if (sha256 !== undefined && (typeof sha256 !== "string" || !SHA256.test(sha256.toLowerCase()))) {
      skipped.push({ name: path, reason: "sha256 is not 64 hex digits" });
      continue;
    }
    const etag = record["etag"];
    if (etag !== undefined && typeof etag !== "string") {
      skipped.push({ name: path, reason: "etag is not a string" });
      continue;
    }
    const mtime = parseMtime(record["mtime"]);
    const mode = parseMode(record["mode"]);
    if (mtime === "invalid" || mode === "invalid") {
      skipped.push({ name: path, reason: `an invalid ${mtime === "invalid" ? "mtime" : "mode"}` });
      continue;
    }
    out.push({
      path,
      size,
      ...(typeof sha256 === "string" ? { sha256: sha256.toLowerCase() } : {}),
      ...(typeof etag === "string" ? { etag } : {}),
      ...(mtime !== undefined ? { mtime } : {}),
      ...(mode !== undefined ? { mode } : {}),
    });
  }
  return { files: out, next: typeof next === "string" ? next : undefined, skipped };
}
