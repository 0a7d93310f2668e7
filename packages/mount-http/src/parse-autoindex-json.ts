import { segmentProblem } from "./child-link.js";

/** One row of a folder listing, before it becomes a key. */
export interface IndexRow {
  readonly name: string;
  readonly directory: boolean;
  /** Bytes, when the listing says. */
  readonly size?: number | undefined;
  /** Milliseconds since the epoch, when the listing says. */
  readonly mtime?: number | undefined;
  readonly etag?: string | undefined;
}

/** A parsed folder page: its rows, and what was skipped with the reason. */
export interface ParsedIndex {
  readonly rows: IndexRow[];
  readonly skipped: { readonly name: string; readonly reason: string }[];
}

/** A malformed listing document (not a row that was skipped: the whole page). */
export class ListingFormatError extends Error {
  override readonly name = "ListingFormatError";
}

function parseDate(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * nginx's `autoindex_format json`: an array of `{ name, type: "file" | "directory" | "other",
 * mtime, size }`, names verbatim (not percent-encoded). `"other"` (a socket, a dangling link) is
 * skipped.
 */
export function parseAutoindexJson(text: string): ParsedIndex {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ListingFormatError(`not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(document)) throw new ListingFormatError("an autoindex JSON listing is an array");
  const rows: IndexRow[] = [];
  const skipped: { name: string; reason: string }[] = [];
  for (const item of document as unknown[]) {
    if (typeof item !== "object" || item === null) {
      skipped.push({ name: String(item), reason: "not an object" });
      continue;
    }
    const { name, type, size, mtime } = item as Record<string, unknown>;
    if (typeof name !== "string") {
      skipped.push({ name: String(name), reason: "no name" });
      continue;
    }
    const problem = segmentProblem(name);
    if (problem) {
      skipped.push({ name, reason: problem });
      continue;
    }
    if (type === "directory") {
      rows.push({ name, directory: true, mtime: parseDate(mtime) });
    } else if (type === "file") {
      if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
        skipped.push({ name, reason: `an invalid size (${JSON.stringify(size)})` });
        continue;
      }
      rows.push({ name, directory: false, size, mtime: parseDate(mtime) });
    } else {
      skipped.push({ name, reason: `type ${JSON.stringify(type)} is neither a file nor a directory` });
    }
  }
  return { rows, skipped };
}
