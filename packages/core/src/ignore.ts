import picomatch from "picomatch";
import { invalid } from "./errors.js";
import { ancestorsOf } from "./paths.js";

/** True when a relative path (or any of its ancestors) is ignored. */
export type IgnoreMatcher = (relPath: string) => boolean;

const GLOB_CHARS = /[*?[\]{}()!+@]/;

/**
 * Unions ignore lists (workspace-level first, then mount-level), dropping duplicates and
 * `undefined` lists. Order does not change what is ignored.
 */
export function composeIgnore(...lists: ReadonlyArray<readonly string[] | undefined>): string[] {
  const out = new Set<string>();
  for (const list of lists) for (const pattern of list ?? []) out.add(pattern);
  return [...out];
}

/**
 * Compiles ignore patterns into one matcher over relative paths.
 *
 * - A bare name (`node_modules`, `.cache`: no `/`, no glob character) hides every path with that
 *   exact segment anywhere, and everything below it.
 * - A glob without `/` (`*.log`, `.env*`) is matched against each segment, so it also applies at
 *   any depth.
 * - A pattern with `/` (`build/cache`, `docs/**\/*.md`, `/dist`) is anchored at the mount root
 *   (a leading `/` is optional) and hides the matching path and everything below it.
 *
 * Globs are picomatch's, with `dot: true` (dotfiles are not special). Negation (`!x`) is not
 * supported and throws `EINVAL`: a union of lists cannot express "except".
 */
export function compileIgnore(patterns: readonly string[]): IgnoreMatcher {
  const names = new Set<string>();
  const segmentGlobs: Array<(s: string) => boolean> = [];
  const pathGlobs: Array<(s: string) => boolean> = [];
  for (const raw of patterns) {
    if (typeof raw !== "string" || raw.trim() === "" || raw.includes("\0")) {
      throw invalid(`ignore pattern ${JSON.stringify(raw)} is empty or invalid`);
    }
    if (raw.startsWith("!")) {
      throw invalid(
        `ignore pattern ${JSON.stringify(raw)}: negation is not supported; list what to hide instead`,
      );
    }
    const pattern = raw.replace(/^\/+/, "").replace(/\/+$/, "");
    if (pattern === "") throw invalid(`ignore pattern ${JSON.stringify(raw)} would hide everything`);
    const anchored = raw.startsWith("/");
    if (!anchored && !pattern.includes("/")) {
      if (GLOB_CHARS.test(pattern)) segmentGlobs.push(picomatch(pattern, { dot: true }));
      else names.add(pattern);
    } else {
      pathGlobs.push(picomatch(pattern, { dot: true }));
    }
  }
  if (names.size === 0 && segmentGlobs.length === 0 && pathGlobs.length === 0) return () => false;

  return (relPath: string): boolean => {
    if (relPath === "") return false;
    if (names.size > 0 || segmentGlobs.length > 0) {
      let start = 0;
      for (;;) {
        const end = relPath.indexOf("/", start);
        const segment = end === -1 ? relPath.slice(start) : relPath.slice(start, end);
        if (names.has(segment)) return true;
        for (const glob of segmentGlobs) if (glob(segment)) return true;
        if (end === -1) break;
        start = end + 1;
      }
    }
    if (pathGlobs.length > 0) {
      for (const candidate of [...ancestorsOf(relPath), relPath]) {
        for (const glob of pathGlobs) if (glob(candidate)) return true;
      }
    }
    return false;
  };
}
