import { invalid, type MountOptions, normalizeKeyPrefix } from "@ws/core";

/** Something in the repository the mount did not materialise or list as a plain file, by name. */
export interface GitDiagnostic {
  readonly code:
    | "submodule"
    | "invalid-name"
    | "lfs-pointer"
    | "symlink-outside-root"
    | "symlink-unsupported"
    /** No longer reported: `GitHubTree` lists links that stay inside the mount. */
    | "symlink-lazy"
    | "blob-too-large";
  /** The path in the repository, relative to the mount root. */
  readonly key: string;
  readonly message: string;
  readonly root?: string | undefined;
}

/** Options both GitHub mounts share. */
export interface GitHubCommonOptions extends MountOptions {
  /** Where `GITHUB_TOKEN` is read from (a Workers `env`, or `process.env`). */
  readonly env?: Readonly<Record<string, unknown>> | undefined;
  /** A token (a PAT or an installation token). Takes precedence over `env.GITHUB_TOKEN`. */
  readonly token?: string | undefined;
  /** Branch, tag or (lazy only) commit id. Default: the repository's default branch. */
  readonly ref?: string | undefined;
  /** Only this folder of the repository is mounted, with paths relative to it (`"/src/docs/"`). */
  readonly prefix?: string | undefined;
  /**
   * What the repository holds that the mount does not show as a plain file, each by name:
   * submodules, Git LFS pointers, symlinks leaving the mount (or, on a host without symlink
   * support, any), blobs over the REST limit. Also kept as `mount.diagnostics`. Links leaving the mount are reported through
   * `onDiagnostic` too (as `invalid-path`, like any key that cannot be a path).
   */
  readonly onGitDiagnostic?: ((diagnostic: GitDiagnostic) => void) | undefined;
}

/** `"owner/name"` split and checked (a trailing `.git` is dropped). */
export function parseRepo(repo: unknown, what: string): { owner: string; name: string } {
  if (typeof repo !== "string") throw invalid(`${what} needs a repository "owner/name", got ${typeof repo}`);
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?$/.exec(repo.trim());
  if (!match || match[1] === "." || match[1] === ".." || match[2] === "." || match[2] === "..") {
    throw invalid(`${what}: ${JSON.stringify(repo)} is not a repository name of the form "owner/name"`);
  }
  return { owner: match[1] ?? "", name: match[2] ?? "" };
}

/** The token from `options.token`, else `env.GITHUB_TOKEN`; `undefined` for anonymous access. */
export function resolveToken(options: GitHubCommonOptions, what: string): string | undefined {
  const token = options.token ?? options.env?.["GITHUB_TOKEN"];
  if (token === undefined || token === "") return undefined;
  if (typeof token !== "string" || /[\s]/.test(token)) {
    // Never echo the value: it may be a real secret with a stray newline.
    throw invalid(`${what}: the token must be a string without whitespace`);
  }
  return token;
}

export function resolveRef(ref: unknown, what: string): string | undefined {
  if (ref === undefined) return undefined;
  if (typeof ref !== "string" || ref === "" || /[\s~^:?*[\\]|\.\.|^-|^\/|\/$/.test(ref)) {
    throw invalid(`${what}: ref ${JSON.stringify(ref)} is not a valid branch, tag or commit name`);
  }
  return ref;
}

/** The normalised prefix (`"src/docs"`, `""` for the whole repository). */
export function resolvePrefix(prefix: unknown): string {
  return normalizeKeyPrefix(prefix as string | undefined);
}

/** Git file modes as POSIX permission bits: 100755 is executable, everything else 0o644. */
export function modeOf(gitMode: string): number {
  return gitMode === "100755" ? 0o755 : 0o644;
}

const LFS_HEADER = "version https://git-lfs.github.com/spec/v1";
const encoder = new TextEncoder();
const LFS_BYTES = encoder.encode(LFS_HEADER);

/** True for the small text file Git LFS stores in place of the real content. */
export function isLfsPointer(bytes: Uint8Array): boolean {
  if (bytes.length > 1024 || bytes.length < LFS_BYTES.length) return false;
  for (let i = 0; i < LFS_BYTES.length; i++) if (bytes[i] !== LFS_BYTES[i]) return false;
  return true;
}

/** Reports one diagnostic to the hooks that want it. */
export function report(options: GitHubCommonOptions, diagnostic: GitDiagnostic): void {
  options.onGitDiagnostic?.(diagnostic);
  if (diagnostic.code === "symlink-outside-root" || diagnostic.code === "invalid-name") {
    options.onDiagnostic?.({ code: "invalid-path", key: diagnostic.key, message: diagnostic.message });
  }
}
