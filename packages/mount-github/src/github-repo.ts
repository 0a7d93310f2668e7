import {
  checkQuota,
  isValidRelativePath,
  MountError,
  resolveLinkWithinRoot,
  withErrorContext,
} from "@ws/core";
import {
  classifyHttpStatus,
  type DefinedEagerMount,
  defineEagerMount,
  type EagerWriter,
  integerOption,
  urlOption,
} from "@ws/provider-kit";
import git from "isomorphic-git";
import { GitTransport } from "./git-transport.js";
import {
  type GitDiagnostic,
  type GitHubCommonOptions,
  isLfsPointer,
  modeOf,
  parseRepo,
  report,
  resolvePrefix,
  resolveRef,
  resolveToken,
} from "./github-common.js";
import { MemoryFs } from "./memory-fs.js";

/** Options of `GitHubRepo`: the common mount options plus where and what to clone. */
export interface GitHubRepoOptions extends GitHubCommonOptions {
  /**
   * The smart-HTTP URL of the repository, for GitHub Enterprise, a self-hosted forge or a local
   * `git http-backend`. Default `https://github.com/<owner>/<name>.git`. No credentials in it:
   * pass `token`.
   */
  readonly url?: string | undefined;
  /** History depth of the shallow clone (default 1: only the commit itself). */
  readonly depth?: number | undefined;
  /**
   * Cap on the bytes the server may send for one clone (default 256 MiB). Checked while the pack
   * arrives: above it the download is aborted with `EDQUOT` and nothing is materialised.
   * isomorphic-git holds the pack in memory (up to about 8x its size at peak while it indexes).
   */
  readonly maxPackBytes?: number | undefined;
  /** Abort when the server sends nothing for this long (default 60 000 ms): `ETIMEDOUT`, never a hang. */
  readonly timeoutMs?: number | undefined;
}

/** The mount `GitHubRepo` returns. */
export interface GitHubRepoMount extends DefinedEagerMount {
  /** `"owner/name"`. */
  readonly repo: string;
  /** The clone URL (never with credentials). */
  readonly url: string;
  /** The commit last materialised (`undefined` before the first `materialize`). */
  readonly commit: string | undefined;
  /** What the last `materialize` skipped or reported (submodules, LFS pointers, links leaving the root). */
  readonly diagnostics: readonly GitDiagnostic[];
  /**
   * Asks the server for the one ref (protocol v2 `ls-refs` with a prefix, no pack) and says
   * whether its commit differs from the one materialised. The next `materialize` (the host's
   * `refreshMount`) fetches only when it changed; otherwise it rewrites the tree from the objects
   * kept in memory.
   */
  refresh(): Promise<{ changed: boolean; commit: string }>;
  /** Drops the objects kept in memory for `refresh`. */
  dispose(): void;
}

const DEFAULT_MAX_PACK_BYTES = 256 * 1024 * 1024;
const GITDIR = "/repo.git";
const VIRTUAL_ROOT = "/mount";

interface Store {
  readonly fs: MemoryFs;
  readonly cache: object;
  readonly commit: string;
  /** The full name of the ref the clone followed (`refs/heads/main`), for `refresh`. */
  readonly remoteRef: string | undefined;
}

interface TreeFile {
  readonly path: string;
  readonly oid: string;
  readonly mode: string;
}

/**
 * An eager mount of a git repository: a shallow clone (`depth: 1`, one branch, no tags) into
 * memory with isomorphic-git, then a walk of the commit's tree that writes every file with its
 * mode. Works with GitHub and any smart-HTTP git server (`url`).
 *
 * ```ts
 * mounts: { "/workspace/docs": GitHubRepo("cloudflare/agents", { env, ref: "main", prefix: "/src/content/docs/" }) }
 * ```
 */
export function GitHubRepo(repo: string, options: GitHubRepoOptions = {}): GitHubRepoMount {
  const what = "GitHubRepo";
  const { owner, name } = parseRepo(repo, what);
  // mode: "read-write" is accepted and means nothing more: a clone has no way back (push from an
  // exec command instead), so the mount reports writable: false and the host refuses writes (EROFS).
  const token = resolveToken(options, what);
  const ref = resolveRef(options.ref, what);
  const prefix = resolvePrefix(options.prefix);
  const depth = integerOption("depth", options.depth, { default: 1, min: 1, max: 1_000_000 });
  const maxPackBytes = integerOption("maxPackBytes", options.maxPackBytes, {
    default: DEFAULT_MAX_PACK_BYTES,
    min: 1,
    max: 2 ** 31 - 1,
  });
  const timeoutMs = integerOption("timeoutMs", options.timeoutMs, {
    default: 60_000,
    min: 1,
    max: 3_600_000,
  });
  const url =
    options.url === undefined
      ? `https://github.com/${owner}/${name}.git`
      : urlOption("url", options.url).toString();
  const headers: Record<string, string> = { "user-agent": "ws-mounts (isomorphic-git)" };
  // GitHub takes a token as the password of HTTP Basic with any user; sending it up front saves
  // the 401 round trip isomorphic-git's onAuth would cost.
  const basic = token ? `Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}` : undefined;
  if (basic) headers["authorization"] = basic;
  const secrets = token ? [token, basic, basic?.slice("Basic ".length)] : [];

  let store: Store | undefined;
  let diagnostics: GitDiagnostic[] = [];

  const transport = (limit: number): GitTransport =>
    new GitTransport({ headers, maxBytes: limit, idleTimeoutMs: timeoutMs, displayUrl: url });
  const fail = (error: unknown, doing: string): MountError => classifyGitError(error, { url, ref, doing });

  async function lsRef(): Promise<{ oid: string; remoteRef: string } | undefined> {
    const t = transport(16 * 1024 * 1024);
    const wanted = store?.remoteRef ?? (ref ? undefined : "HEAD");
    const prefixes = wanted ? [wanted] : [`refs/heads/${ref}`, `refs/tags/${ref}`];
    try {
      for (const p of prefixes) {
        const refs = await t.run(
          git.listServerRefs({
            http: t.client,
            url,
            prefix: p,
            protocolVersion: 2,
            peelTags: true,
            symrefs: p === "HEAD",
          }),
        );
        const hit = refs.find((r) => r.ref === p);
        if (hit) return { oid: hit.peeled ?? hit.oid, remoteRef: p };
      }
      return undefined;
    } catch (error) {
      throw fail(error, "listing the ref");
    }
  }

  async function clone(): Promise<Store> {
    const fs = new MemoryFs();
    const cache = {};
    const t = transport(maxPackBytes);
    try {
      await t.run(
        git.clone({
          fs,
          http: t.client,
          dir: "/work",
          gitdir: GITDIR,
          url,
          ...(ref ? { ref } : {}),
          singleBranch: true,
          depth,
          noTags: true,
          noCheckout: true,
          cache,
        }),
      );
      const commit = await git.resolveRef({ fs, gitdir: GITDIR, ref: "HEAD" });
      const branch = await git.currentBranch({ fs, gitdir: GITDIR, fullname: true });
      const remoteRef = branch ?? (ref ? `refs/tags/${ref}` : undefined);
      return { fs, cache, commit, remoteRef };
    } catch (error) {
      throw fail(error, "cloning");
    }
  }

  async function readTree(
    s: Store,
  ): Promise<{ files: TreeFile[]; links: { path: string; oid: string }[]; found: GitDiagnostic[] }> {
    const files: TreeFile[] = [];
    const links: { path: string; oid: string }[] = [];
    const found: GitDiagnostic[] = [];
    let top: string;
    try {
      top = (
        await git.readTree({
          fs: s.fs,
          gitdir: GITDIR,
          oid: s.commit,
          ...(prefix === "" ? {} : { filepath: prefix }),
          cache: s.cache,
        })
      ).oid;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if ((code === "NotFoundError" || code === "ObjectTypeError") && prefix !== "") {
        throw new MountError(
          "ENOENT",
          `prefix ${JSON.stringify(prefix)} is not a folder in ${url} at ${s.commit.slice(0, 12)}`,
          { cause: error, path: "" },
        );
      }
      throw fail(error, "reading the tree");
    }
    const walk = async (oid: string, base: string): Promise<void> => {
      const { tree } = await git.readTree({ fs: s.fs, gitdir: GITDIR, oid, cache: s.cache });
      for (const entry of tree) {
        const path = base === "" ? entry.path : `${base}/${entry.path}`;
        // A hostile server can send any name (git mktree takes ".."); such entries are skipped
        // and reported, never written (the kit's writer would refuse them too).
        if (!isValidRelativePath(path)) {
          found.push({
            code: "invalid-name",
            key: path,
            message: `${JSON.stringify(path)} cannot be a path in the mount; skipped`,
          });
          continue;
        }
        if (entry.type === "tree") await walk(entry.oid, path);
        else if (entry.mode === "160000" || entry.type === "commit") {
          found.push({
            code: "submodule",
            key: path,
            message: `${path} is a submodule (commit ${entry.oid.slice(0, 12)}); submodules are not cloned`,
          });
        } else if (entry.mode === "120000") links.push({ path, oid: entry.oid });
        else files.push({ path, oid: entry.oid, mode: entry.mode });
      }
    };
    try {
      await walk(top, "");
    } catch (error) {
      throw fail(error, "reading the tree");
    }
    return { files, links, found };
  }

  async function materializeFrom(s: Store, writer: EagerWriter): Promise<void> {
    const { files, links, found } = await readTree(s);
    const limits = options;
    // The entry count is known before any blob is read; the bytes once they are.
    quota(
      files.map(() => 0),
      { maxEntries: limits.maxEntries },
    );
    // Everything is read before the first write: a failure half-way leaves nothing behind.
    const staged: { path: string; bytes: Uint8Array; mode: number }[] = [];
    try {
      for (const file of files) {
        const { blob } = await git.readBlob({ fs: s.fs, gitdir: GITDIR, oid: file.oid, cache: s.cache });
        if (isLfsPointer(blob)) {
          found.push({
            code: "lfs-pointer",
            key: file.path,
            message: `${file.path} is a Git LFS pointer; its content is not fetched (the pointer file is materialised as stored)`,
          });
        }
        staged.push({ path: file.path, bytes: blob, mode: modeOf(file.mode) });
      }
    } catch (error) {
      throw fail(error, "reading a blob");
    }
    quota(
      staged.map((f) => f.bytes.length),
      { maxBytes: limits.maxBytes, maxEntries: limits.maxEntries },
    );
    const stagedLinks: { path: string; target: string }[] = [];
    for (const link of links) {
      let target: string;
      try {
        const { blob } = await git.readBlob({ fs: s.fs, gitdir: GITDIR, oid: link.oid, cache: s.cache });
        target = new TextDecoder().decode(blob);
      } catch (error) {
        throw fail(error, "reading a link");
      }
      try {
        // Lexical check against a stand-in root: a link's meaning does not depend on where the mount sits.
        resolveLinkWithinRoot(VIRTUAL_ROOT, `${VIRTUAL_ROOT}/${link.path}`, target);
      } catch {
        found.push({
          code: "symlink-outside-root",
          key: link.path,
          message: `${link.path} links to ${JSON.stringify(target)}, outside the mount; not created`,
        });
        continue;
      }
      if (!writer.symlink) {
        found.push({
          code: "symlink-unsupported",
          key: link.path,
          message: `${link.path} links to ${JSON.stringify(target)}; the host has no symlink support, not created`,
        });
        continue;
      }
      stagedLinks.push({ path: link.path, target });
    }
    for (const file of staged) writer.writeFile(file.path, file.bytes, file.mode);
    for (const link of stagedLinks) writer.symlink?.(link.path, link.target);
    diagnostics = found;
    for (const d of diagnostics) report(options, d);
  }

  async function refresh(): Promise<{ changed: boolean; commit: string }> {
    const remote = await lsRef();
    if (!remote) throw missingRef(url, ref);
    return { changed: remote.oid !== store?.commit, commit: remote.oid };
  }

  return defineEagerMount({
    kind: "github",
    // The kit derives writable from mode; this mount cannot write, so it says read-only whatever
    // was asked (shape.capabilities: never writable without a way to write).
    options: { ...options, mode: "read-only" },
    // Only the idle timeout and the pack cap stop a clone; a failed clone is retried whole by
    // the kit's retry layer when the failure is transient (a dropped connection, a 5xx).
    retries: "kit",
    secrets: () => secrets,
    classify: (error) => fail(error, "materialising"),
    async materialize(writer: EagerWriter): Promise<void> {
      let next = store;
      if (next) {
        const remote = await lsRef();
        if (!remote) throw missingRef(url, ref);
        if (remote.oid !== next.commit) next = undefined;
      }
      next ??= await clone();
      await materializeFrom(next, writer);
      // Keep the objects for refresh, not the read cache: isomorphic-git caches inflated delta
      // bases in it (several times the pack on a real repository). The index reloads from .idx.
      store = { ...next, cache: {} };
    },
    dispose() {
      store = undefined;
    },
    extra: {
      repo: `${owner}/${name}`,
      url,
      get commit(): string | undefined {
        return store?.commit;
      },
      get diagnostics(): readonly GitDiagnostic[] {
        return diagnostics;
      },
      refresh,
    },
  }) as GitHubRepoMount;
}

/** checkQuota, with the error about the whole mount (`path: ""`, the root; the kit adds the root). */
function quota(
  sizes: readonly number[],
  limits: { maxBytes?: number | undefined; maxEntries?: number | undefined },
): void {
  try {
    checkQuota(
      sizes.map((size) => ({ size })),
      limits,
    );
  } catch (error) {
    throw MountError.isInstance(error) ? withErrorContext(error, { path: "" }) : error;
  }
}

function missingRef(url: string, ref: string | undefined): MountError {
  return new MountError("ENOENT", `${url} has no ${ref ? `branch or tag ${JSON.stringify(ref)}` : "HEAD"}`, {
    path: "",
  });
}

/** isomorphic-git's failures as MountErrors with a POSIX code (`path` is the mount root, `""`). */
export function classifyGitError(
  error: unknown,
  context: { url: string; ref: string | undefined; doing: string },
): MountError {
  if (MountError.isInstance(error)) return error;
  const e = error as { code?: string; message?: string; data?: { statusCode?: number; what?: string } };
  const reason = e?.message ?? String(error);
  const opts = { cause: error, path: "" };
  if (e?.code === "HttpError") {
    const status = e.data?.statusCode ?? 0;
    if (status === 404 || status === 410) {
      return new MountError("ENOENT", `${context.url}: no such repository (HTTP ${status})`, opts);
    }
    if (status === 401 || status === 403) {
      return new MountError(
        "EACCES",
        `${context.url}: the server refused access (HTTP ${status}); check the token (token or env.GITHUB_TOKEN) and its permissions`,
        opts,
      );
    }
    const c = classifyHttpStatus(status, { what: `${context.doing} ${context.url}` });
    return new MountError(c.code, c.reason, { ...opts, transient: c.transient });
  }
  if (e?.code === "UnsafeFilepathError") {
    return new MountError(
      "EINVAL",
      `${context.url}: the commit holds a name that cannot be a path (${reason}); the repository is refused and nothing was written`,
      opts,
    );
  }
  if (e?.code === "NotFoundError") {
    return new MountError(
      "ENOENT",
      `${context.url}: ${context.ref ? `no branch or tag ${JSON.stringify(context.ref)}` : "not found"} (${reason})`,
      opts,
    );
  }
  return new MountError("EIO", `${context.url}: ${context.doing} failed (${reason})`, opts);
}
