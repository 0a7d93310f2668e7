import { relativePathProblem } from "./paths.js";
import type { MountDiagnostic, MountEntry } from "./types.js";

export interface SanitizeResult {
  readonly entries: MountEntry[];
  readonly skipped: MountDiagnostic[];
}

/**
 * Keeps the entries of a listing that can be files under a mount root and reports the rest. A
 * backend key that cannot be a path never crashes the index and never escapes the root:
 *
 * - invalid paths (empty, leading `/`, `.`/`..`/empty segments, NUL, over-long segments);
 * - sizes that are not non-negative safe integers;
 * - a second entry for the same path (the first wins);
 * - a key that is both a file and a directory prefix of other keys (`a` and `a/b`): the file is
 *   skipped, its children are kept, because a directory cannot also hold bytes.
 */
export function sanitizeEntries(entries: Iterable<MountEntry>, root?: string): SanitizeResult {
  const kept = new Map<string, MountEntry>();
  const skipped: MountDiagnostic[] = [];
  for (const entry of entries) {
    const key = String(entry?.path);
    const problem = relativePathProblem(entry?.path);
    if (problem) {
      skipped.push({
        code: "invalid-path",
        key,
        root,
        message: `skipped ${JSON.stringify(key)}: ${problem}`,
      });
      continue;
    }
    if (typeof entry.size !== "number" || !Number.isSafeInteger(entry.size) || entry.size < 0) {
      skipped.push({
        code: "invalid-size",
        key,
        root,
        message: `skipped ${key}: size ${String(entry.size)} is invalid`,
      });
      continue;
    }
    if (kept.has(key)) {
      skipped.push({ code: "duplicate-path", key, root, message: `skipped a second entry for ${key}` });
      continue;
    }
    kept.set(key, entry);
  }
  const directories = new Set<string>();
  for (const key of kept.keys()) {
    // Walk up from the nearest parent; once a parent is known, all of its ancestors are too.
    for (let i = key.lastIndexOf("/"); i > 0; i = key.lastIndexOf("/", i - 1)) {
      const dir = key.slice(0, i);
      if (directories.has(dir)) break;
      directories.add(dir);
    }
  }
  for (const dir of directories) {
    // A folder's own marker beside its entries says nothing more (dropped quietly), unless it
    // carries the folder's mode.
    const own = kept.get(dir);
    if (own?.type === "directory") {
      if (own.mode === undefined) kept.delete(dir);
      continue;
    }
    if (kept.delete(dir)) {
      skipped.push({
        code: "file-directory-conflict",
        key: dir,
        root,
        message: `skipped ${dir}: it is both a file and a directory of other keys`,
      });
    }
  }
  return { entries: [...kept.values()], skipped };
}
