import {
  isValidRelativePath,
  MountError,
  quotaExceeded,
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
import { GitFetchClient, type RemoteRef } from "./git-fetch.js";
import { GitTransport } from "./git-transport.js";
import {
  type GitDiagnostic,
  type GitHubCommonOptions,
  isLfsPointer,
  parseRepo,
  report,
  resolvePrefix,
  resolveRef,
  resolveToken,
} from "./github-common.js";
import { PackStore } from "./pack-store.js";

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
   * arrives: above it the download is aborted with `EDQUOT` and nothing is materialised. The pack
   * is held in memory (once) with a small index while the mount lives, for `refresh`.
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
const VIRTUAL_ROOT = "/mount";

interface Store {
  /** The pack and its index: every object of the commit, read on demand. */
  readonly objects: PackStore;
  readonly commit: string;
  /** The full name of the ref the clone followed (`refs/heads/main`), for `refresh`. */
  readonly remoteRef: string;
}

/**
 * An eager mount of a git repository: the pack of one commit (`depth: 1`, one ref, no tags)
 * fetched over git's smart-HTTP protocol into memory and indexed, then a walk of the commit's tree
 * that writes every file with its mode, one at a time, straight from the pack. Works with GitHub
 * and any smart-HTTP git server (`url`). See the README for why this is not isomorphic-git's clone.
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
  const headers: Record<string, string> = { "user-agent": "ws-mounts" };
  // GitHub takes a token as the password of HTTP Basic with any user; sending it up front saves
  // the 401 round trip a challenge-driven client would cost.
  const basic = token ? `Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}` : undefined;
  if (basic) headers["authorization"] = basic;
  const secrets = token ? [token, basic, basic?.slice("Basic ".length)] : [];

  let store: Store | undefined;
  let diagnostics: GitDiagnostic[] = [];

  const transport = (limit: number): GitTransport =>
    new GitTransport({ headers, maxBytes: limit, idleTimeoutMs: timeoutMs, displayUrl: url });
  const fail = (error: unknown, doing: string): MountError => classifyGitError(error, { url, ref, doing });

  /** The ref's commit on the server now (protocol v2 `ls-refs` with the one name; no pack). */
  async function lsRef(): Promise<{ oid: string; remoteRef: string } | undefined> {
    const t = transport(16 * 1024 * 1024);
    const client = new GitFetchClient(t.client, url, url);
    try {
      const hit = await t.run(client.resolve(ref, store?.remoteRef));
      return hit ? { oid: hit.oid, remoteRef: hit.target ?? hit.ref } : undefined;
    } catch (error) {
      throw fail(error, "listing the ref");
    }
  }

  async function clone(): Promise<Store> {
    const t = transport(maxPackBytes);
    const client = new GitFetchClient(t.client, url, url);
    let remote: RemoteRef;
    let pack: Uint8Array;
    try {
      ({ remote, pack } = await t.run(
        (async () => {
          const found = await client.resolve(ref);
          if (!found) throw missingRef(url, ref);
          return { remote: found, pack: await client.fetchPack(found.oid, depth, maxPackBytes) };
        })(),
      ));
    } catch (error) {
      throw fail(error, "cloning");
    }
    let objects: PackStore;
    try {
      objects = PackStore.index(pack);
    } catch (error) {
      throw fail(error, "indexing the pack");
    }
    if (objects.stat(remote.oid)?.type !== "commit") {
      throw new MountError(
        "EIO",
        `${url}: the pack does not hold commit ${remote.oid}; nothing was materialised`,
        {
          path: "",
          transient: true,
        },
      );
    }
    return { objects, commit: remote.oid, remoteRef: remote.target ?? remote.ref };
  }

  /**
   * The tree to materialise (the commit's, or the prefix's folder), then a check of every entry
   * before anything is written: names git would refuse (the whole mount refused), names that
   * cannot be paths, submodules (reported), links (resolved later), and every file's blob in the
   * pack with its size, for the quotas. Nothing is kept per file: the write pass walks the trees
   * again. Paths are only made for what is reported.
   */
  function scanTree(s: Store): {
    top: number;
    files: number;
    bytes: number;
    links: { path: string; index: number }[];
    found: GitDiagnostic[];
  } {
    const objects = s.objects;
    const links: { path: string; index: number }[] = [];
    const found: GitDiagnostic[] = [];
    let files = 0;
    let bytes = 0;
    const lacks = (what: string, path: string, id: string): MountError =>
      new MountError("EIO", `${url}: the pack lacks ${what} ${id} (${path}); nothing was materialised`, {
        path: "",
        transient: true,
      });
    let top = objects.indexOf(objects.commitTree(s.commit));
    if (top < 0 || objects.typeAt(top) !== "tree") throw lacks("tree", "/", objects.commitTree(s.commit));
    if (prefix !== "") {
      for (const segment of prefix.split("/")) {
        const tree = objects.treeAt(top);
        let next = -1;
        while (tree.next()) {
          if (tree.name === segment && tree.mode === DIR) {
            next = objects.indexAt(tree.bytes, tree.idAt);
            if (next < 0 || objects.typeAt(next) !== "tree") throw lacks("tree", segment, tree.id());
            break;
          }
        }
        if (next < 0) {
          throw new MountError(
            "ENOENT",
            `prefix ${JSON.stringify(prefix)} is not a folder in ${url} at ${s.commit.slice(0, 12)}`,
            { path: "" },
          );
        }
        top = next;
      }
    }
    const scan = (index: number, base: string): void => {
      const tree = objects.treeAt(index);
      while (tree.next()) {
        const name = tree.name;
        // git itself refuses to check such a tree out (fsck: "..", ".git", a slash in a name); so
        // does the mount, whole, before anything is written.
        if (!isSafeName(name)) {
          throw new MountError(
            "EINVAL",
            `${url}: the commit holds a name that cannot be a path (${JSON.stringify(pathOf(base, name))}); the repository is refused and nothing was written`,
            { path: "" },
          );
        }
        // Names git allows that cannot be paths here (an over-long segment...): skipped and reported.
        if (!isValidRelativePath(name)) {
          found.push({
            code: "invalid-name",
            key: pathOf(base, name),
            message: `${JSON.stringify(pathOf(base, name))} cannot be a path in the mount; skipped`,
          });
          continue;
        }
        const mode = tree.mode;
        if (mode === SUBMODULE) {
          found.push({
            code: "submodule",
            key: pathOf(base, name),
            message: `${pathOf(base, name)} is a submodule (commit ${tree.id().slice(0, 12)}); submodules are not cloned`,
          });
          continue;
        }
        const entry = objects.indexAt(tree.bytes, tree.idAt);
        if (mode === DIR) {
          if (entry < 0 || objects.typeAt(entry) !== "tree")
            throw lacks("tree", pathOf(base, name), tree.id());
          scan(entry, base === "" ? name : `${base}/${name}`);
          continue;
        }
        if (entry < 0 || objects.typeAt(entry) !== "blob") throw lacks("blob", pathOf(base, name), tree.id());
        if (mode === LINK) links.push({ path: pathOf(base, name), index: entry });
        else {
          files++;
          bytes += objects.sizeAt(entry);
        }
      }
    };
    scan(top, "");
    return { top, files, bytes, links, found };
  }

  async function materializeFrom(s: Store, writer: EagerWriter): Promise<void> {
    let tree: ReturnType<typeof scanTree>;
    try {
      tree = scanTree(s);
    } catch (error) {
      throw fail(error, "reading the tree");
    }
    const { top, links, found } = tree;
    // Every object was inflated and checked against its id when the pack was indexed, and the
    // index knows every size: the quotas are checked, and every link resolved, before the first
    // write. Then the files are written one at a time, each read from the pack when its turn
    // comes and handed over: nothing is staged, so the peak is the pack plus one file.
    quota(tree.files, tree.bytes, { maxBytes: options.maxBytes, maxEntries: options.maxEntries });
    const stagedLinks: { path: string; target: string }[] = [];
    for (const link of links) {
      let target: string;
      try {
        target = new TextDecoder().decode(s.objects.readOwnedAt(link.index));
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
    const objects = s.objects;
    // The same walk as the scan (which checked every entry), writing the files in tree order:
    // git writes a pack's blobs in about that order, so delta bases are still at hand.
    const write = (index: number, base: string): void => {
      const tree = objects.treeAt(index);
      while (tree.next()) {
        const name = tree.name;
        const mode = tree.mode;
        if (mode === SUBMODULE || mode === LINK || !isValidRelativePath(name)) continue;
        const path = base === "" ? name : `${base}/${name}`;
        const entry = objects.indexAt(tree.bytes, tree.idAt);
        if (mode === DIR) {
          write(entry, path);
          continue;
        }
        const bytes = objects.readOwnedAt(entry);
        if (isLfsPointer(bytes)) {
          found.push({
            code: "lfs-pointer",
            key: path,
            message: `${path} is a Git LFS pointer; its content is not fetched (the pointer file is materialised as stored)`,
          });
        }
        // The bytes are a fresh copy out of the pack: the host may keep them as they are.
        writer.adoptFile(path, bytes, mode === EXECUTABLE ? 0o755 : 0o644);
      }
    };
    try {
      write(top, "");
    } catch (error) {
      throw fail(error, "reading a blob");
    } finally {
      s.objects.trim();
    }
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
      // The pack and its index stay for refresh (the read cache was dropped).
      store = next;
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

/** A tree entry name git would check out: not empty, `.`, `..` or `.git`, no `/` or NUL. */
function isSafeName(name: string): boolean {
  return (
    name !== "" &&
    name !== "." &&
    name !== ".." &&
    name.toLowerCase() !== ".git" &&
    !name.includes("/") &&
    !name.includes("\0")
  );
}

/** The quotas checked on the counts (the error about the whole mount: `path: ""`, the root; the kit adds the root). */
function quota(
  files: number,
  bytes: number,
  limits: { maxBytes?: number | undefined; maxEntries?: number | undefined },
): void {
  const error =
    limits.maxEntries !== undefined && files > limits.maxEntries
      ? quotaExceeded("maxEntries", limits.maxEntries, files, undefined)
      : limits.maxBytes !== undefined && bytes > limits.maxBytes
        ? quotaExceeded("maxBytes", limits.maxBytes, bytes, undefined)
        : undefined;
  if (error) throw withErrorContext(error, { path: "" });
}

/** A tree entry's path under its folder's (made only where one is needed). */
function pathOf(base: string, name: string): string {
  return base === "" ? name : `${base}/${name}`;
}

/** Tree entry modes (octal, as git writes them). */
const DIR = 0o40000;
const EXECUTABLE = 0o100755;
const LINK = 0o120000;
const SUBMODULE = 0o160000;

function missingRef(url: string, ref: string | undefined): MountError {
  return new MountError("ENOENT", `${url} has no ${ref ? `branch or tag ${JSON.stringify(ref)}` : "HEAD"}`, {
    path: "",
  });
}

/** The git client's failures as MountErrors with a POSIX code (`path` is the mount root, `""`). */
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
