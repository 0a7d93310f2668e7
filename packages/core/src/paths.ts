import { invalid, MountError } from "./errors.js";

/**
 * Path rules. Two kinds of input arrive here:
 *
 * - mount roots and relative entry paths, which come from configuration and from backends. These
 *   are validated strictly (`validateMountRoot`, `validateRelativePath`): anything that is not
 *   already canonical is rejected, because silently "fixing" a backend key could map two keys to
 *   one path or a key outside the root.
 * - absolute paths from callers of `ws.fs`, which are normalised leniently the way POSIX does
 *   (`normalizeAbsolutePath`): `//` collapses, `.` drops, `..` climbs but never above `/`.
 */

/** The longest file name most file systems accept, in UTF-8 bytes. */
export const MAX_SEGMENT_BYTES = 255;

const encoder = new TextEncoder();

function segmentProblem(segment: string): string | undefined {
  if (segment === "") return "an empty segment";
  if (segment === "." || segment === "..") return `a "${segment}" segment`;
  // Most segments are short ASCII; only measure bytes when the character count could be too long.
  if (segment.length > MAX_SEGMENT_BYTES / 3 && encoder.encode(segment).length > MAX_SEGMENT_BYTES) {
    return `a segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  return undefined;
}

/** Why `relPath` is not a valid relative entry path, or `undefined` when it is. */
export function relativePathProblem(relPath: unknown): string | undefined {
  if (typeof relPath !== "string") return "it is not a string";
  if (relPath === "") return "it is empty";
  if (relPath.includes("\0")) return "it contains a NUL byte";
  if (relPath.startsWith("/")) return "it starts with /";
  if (relPath.endsWith("/")) return "it ends with /";
  // Segment by segment without splitting: this runs for every file a mount writes, and the
  // arrays and strings of a split were most of what checking a few thousand paths allocated.
  for (let start = 0; start <= relPath.length; ) {
    let end = relPath.indexOf("/", start);
    if (end < 0) end = relPath.length;
    const length = end - start;
    const dots =
      (length === 1 && relPath.charCodeAt(start) === 0x2e) ||
      (length === 2 && relPath.charCodeAt(start) === 0x2e && relPath.charCodeAt(start + 1) === 0x2e);
    if (length === 0 || dots || length > MAX_SEGMENT_BYTES / 3) {
      const problem = segmentProblem(relPath.slice(start, end));
      if (problem) return `it has ${problem}`;
    }
    start = end + 1;
  }
  return undefined;
}

export function isValidRelativePath(relPath: unknown): relPath is string {
  return relativePathProblem(relPath) === undefined;
}

/**
 * Returns `relPath` unchanged if it is a canonical relative path: non-empty, `/`-separated, no
 * leading or trailing slash, no NUL, no empty, `.` or `..` segments. Throws `EINVAL` otherwise.
 */
export function validateRelativePath(relPath: string, root?: string): string {
  const problem = relativePathProblem(relPath);
  if (problem) {
    throw invalid(`${JSON.stringify(relPath)} is not a valid relative path: ${problem}`, {
      path: relPath,
      root,
    });
  }
  return relPath;
}

/**
 * Returns `root` unchanged if it is a canonical absolute mount root (`/workspace/data`): absolute,
 * no trailing slash, no NUL, no empty, `.` or `..` segments, and not `/` itself (a mount at `/`
 * would leave no room for any other mount or for plain workspace files). Throws `EINVAL` otherwise,
 * suggesting the canonical form when there is one.
 */
export function validateMountRoot(root: string): string {
  if (typeof root !== "string" || root === "") {
    throw invalid(`mount root must be a non-empty absolute path, got ${JSON.stringify(root)}`);
  }
  if (root.includes("\0")) throw invalid("mount root contains a NUL byte", { path: root, root });
  if (!root.startsWith("/")) {
    throw invalid(`mount root ${JSON.stringify(root)} is not absolute; write it as "/${root}"`, {
      path: root,
      root,
    });
  }
  if (root === "/")
    throw invalid('cannot mount at "/"; mount under a directory such as "/workspace"', { path: root, root });
  const problem = relativePathProblem(root.slice(1));
  if (problem) {
    const suggestion = normalizeAbsolutePath(root);
    const hint =
      suggestion !== "/" && suggestion !== root ? `; did you mean ${JSON.stringify(suggestion)}?` : "";
    throw invalid(`mount root ${JSON.stringify(root)} is not normalised: ${problem}${hint}`, {
      path: root,
      root,
    });
  }
  return root;
}

/**
 * POSIX normalisation of an absolute path: collapses `//`, drops `.`, resolves `..` (never above
 * `/`), removes a trailing slash. Idempotent. Throws `EINVAL` for relative paths and NUL bytes.
 */
export function normalizeAbsolutePath(path: string): string {
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw invalid(`path must be absolute, got ${JSON.stringify(path)}`, { path: String(path) });
  }
  if (path.includes("\0")) throw invalid("path contains a NUL byte", { path });
  // Fast path: already canonical.
  if (path === "/" || (!path.endsWith("/") && relativePathProblem(path.slice(1)) === undefined)) return path;
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  return `/${out.join("/")}`;
}

/**
 * Joins a validated root and a validated relative path. It cannot escape `root`: the relative
 * path has no `..`, `.` or empty segment and no leading slash, so the result is `root` followed by
 * `/` and at least one ordinary segment. Throws `EINVAL` if either part is not canonical.
 */
export function joinMountPath(root: string, relPath: string): string {
  validateMountRoot(root);
  validateRelativePath(relPath, root);
  return `${root}/${relPath}`;
}

/**
 * The path of `absPath` relative to `root`: `""` for the root itself, `undefined` when `absPath`
 * is not under `root`. Comparison is by whole segments (`/a/b` contains `/a/b/c`, not `/a/bc`).
 * Both arguments must already be normalised.
 */
export function relativeToRoot(root: string, absPath: string): string | undefined {
  if (absPath === root) return "";
  if (root === "/") return absPath.length > 1 ? absPath.slice(1) : "";
  if (absPath.length > root.length && absPath.startsWith(root) && absPath.charCodeAt(root.length) === 47) {
    return absPath.slice(root.length + 1);
  }
  return undefined;
}

/** True when `absPath` is `root` or below it, segment-wise. */
export function isWithinRoot(root: string, absPath: string): boolean {
  return relativeToRoot(root, absPath) !== undefined;
}

/** The parent of a normalised absolute path (`/` for `/x`, `/` for `/`). */
export function parentPath(absPath: string): string {
  const i = absPath.lastIndexOf("/");
  return i <= 0 ? "/" : absPath.slice(0, i);
}

/** The last segment of a path (`""` for `/`). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The proper ancestors of a relative path, nearest last: `a/b/c` → `["a", "a/b"]`. */
export function ancestorsOf(relPath: string): string[] {
  const out: string[] = [];
  let i = relPath.indexOf("/");
  while (i !== -1) {
    out.push(relPath.slice(0, i));
    i = relPath.indexOf("/", i + 1);
  }
  return out;
}

/**
 * Resolves a symbolic link target written at `linkAbsPath` and checks that it stays under `root`.
 * Returns the resolved absolute path; throws `EINVAL` for targets that leave the root (such as
 * `../../etc/passwd`) and for absolute targets outside it.
 */
export function resolveLinkWithinRoot(root: string, linkAbsPath: string, target: string): string {
  if (typeof target !== "string" || target === "" || target.includes("\0")) {
    throw invalid(`symlink ${linkAbsPath} has an invalid target`, { path: linkAbsPath, root });
  }
  const resolved = normalizeAbsolutePath(
    target.startsWith("/") ? target : `${parentPath(linkAbsPath)}/${target}`,
  );
  if (!isWithinRoot(root, resolved)) {
    throw new MountError(
      "EINVAL",
      `symlink ${linkAbsPath} -> ${target} points outside the mount root ${root}; links must stay inside the mount`,
      { path: linkAbsPath, root },
    );
  }
  return resolved;
}

/**
 * A backend key prefix as providers take it (`".agents/skills"`, `"/team/a/"`): slashes at the ends
 * are dropped, and what remains must be a valid relative path or empty (`EINVAL` otherwise).
 * Keys under it are `${prefix}/${relPath}`, or just `relPath` for the empty prefix.
 */
export function normalizeKeyPrefix(raw: string | undefined): string {
  const prefix = (raw ?? "").replace(/^\/+|\/+$/g, "");
  const problem = prefix === "" ? undefined : relativePathProblem(prefix);
  if (problem) throw invalid(`prefix ${JSON.stringify(raw)} is not valid: ${problem}`, { path: String(raw) });
  return prefix;
}
