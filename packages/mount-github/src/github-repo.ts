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
import { PackStore, TreeWalk } from "./pack-store.js";

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
    let total = 0;
    const lacks = (what: string, path: string, id: string): MountError =>
      new MountError("EIO", `${url}: the pack lacks ${what} ${id} (${path}); nothing was materialised`, {
        path: "",
        transient: true,
      });
    let top = objects.indexOf(objects.commitTree(s.commit));
    if (top < 0 || objects.typeAt(top) !== "tree") throw lacks("tree", "/", objects.commitTree(s.commit));
    const walk = new TreeWalk(objects);
    if (prefix !== "") {
      for (const segment of prefix.split("/")) {
        walk.reset();
        walk.enter(top);
        let next = -1;
        while (walk.next()) {
          if (walk.mode === DIR && walk.name() === segment) {
            next = walk.entryIndex();
            if (next < 0 || objects.typeAt(next) !== "tree") throw lacks("tree", segment, walk.id());
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
      walk.reset();
    }
    // Depth first, without recursion: the walk holds the trees entered, and a folder is left when
    // its last entry has been read.
    walk.enter(top);
    while (walk.advance()) {
      const bytes = walk.bytes;
      const nameStart = walk.nameStart;
      const nameEnd = walk.nameEnd;
      // git itself refuses to check such a tree out (fsck: "..", ".git", a slash in a name); so
      // does the mount, whole, before anything is written.
      if (!isSafeName(bytes, nameStart, nameEnd)) {
        throw new MountError(
          "EINVAL",
          `${url}: the commit holds a name that cannot be a path (${JSON.stringify(walk.path())}); the repository is refused and nothing was written`,
          { path: "" },
        );
      }
      // Names git allows that cannot be paths here (an over-long segment...): skipped and reported.
      if (!isPathName(walk)) {
        const path = walk.path();
        found.push({
          code: "invalid-name",
          key: path,
          message: `${JSON.stringify(path)} cannot be a path in the mount; skipped`,
        });
        continue;
      }
      const mode = walk.mode;
      if (mode === SUBMODULE) {
        const path = walk.path();
        found.push({
          code: "submodule",
          key: path,
          message: `${path} is a submodule (commit ${walk.id().slice(0, 12)}); submodules are not cloned`,
        });
        continue;
      }
      const entry = walk.entryIndex();
      if (mode === DIR) {
        if (entry < 0 || objects.typeAt(entry) !== "tree") throw lacks("tree", walk.path(), walk.id());
        walk.enter(entry);
        continue;
      }
      if (entry < 0 || objects.typeAt(entry) !== "blob") throw lacks("blob", walk.path(), walk.id());
      if (mode === LINK) links.push({ path: walk.path(), index: entry });
      else {
        files++;
        total += objects.sizeAt(entry);
      }
    }
    return { top, files, bytes: total, links, found };
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
    // git writes a pack's blobs in about that order, so delta bases are still at hand. Each file's
    // bytes are its own range of a slab no other file shares and nothing writes again.
    const slabs = new Slabs();
    const walk = new TreeWalk(objects);
    try {
      walk.enter(top);
      while (walk.advance()) {
        const mode = walk.mode;
        if (mode === SUBMODULE || mode === LINK || !isPathName(walk)) continue;
        const entry = walk.entryIndex();
        if (mode === DIR) {
          walk.enter(entry);
          continue;
        }
        const path = walk.path();
        const bytes = slabs.take(objects.sizeAt(entry));
        objects.readInto(entry, bytes, 0);
        if (isLfsPointer(bytes)) {
          found.push({
            code: "lfs-pointer",
            key: path,
            message: `${path} is a Git LFS pointer; its content is not fetched (the pointer file is materialised as stored)`,
          });
        }
        // The bytes are the file's own: the host may keep them as they are.
        writer.adoptFile(path, bytes, mode === EXECUTABLE ? 0o755 : 0o644);
      }
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

/**
 * A tree entry name git would check out (`bytes[start, end)`): not empty, `.`, `..` or `.git` (in
 * any case), no `/` or NUL. Read from the tree's bytes, so that checking a name makes no string.
 */
function isSafeName(bytes: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  if (length === 0) return false;
  const first = bytes[start] as number;
  if (first === 0x2e && (length === 1 || (length === 2 && bytes[start + 1] === 0x2e))) return false;
  if (
    length === 4 &&
    first === 0x2e &&
    ((bytes[start + 1] as number) | 0x20) === 0x67 &&
    ((bytes[start + 2] as number) | 0x20) === 0x69 &&
    ((bytes[start + 3] as number) | 0x20) === 0x74
  ) {
    return false;
  }
  for (let k = start; k < end; k++) {
    const c = bytes[k] as number;
    if (c === 0x2f || c === 0) return false;
  }
  return true;
}

/**
 * Whether a safe name (see `isSafeName`) can be a path segment here: `isValidRelativePath` of the
 * name, which for one segment only asks its UTF-8 length. A name of at most 85 bytes passes
 * without a string (decoding turns a byte into at most 3); a longer one is decoded and asked.
 */
function isPathName(walk: TreeWalk): boolean {
  return walk.nameEnd - walk.nameStart <= 85 || isValidRelativePath(walk.name());
}

/** Files up to this size share slabs; bigger ones get an array each. */
const SLAB_FILE_MAX = 16 * 1024;
const SLAB_BYTES = 64 * 1024;

/**
 * The arrays handed to the host, one per file, cut from 64 KiB slabs: no slab is reused, and no
 * range is given twice or written after, so each file's array is its own (a host keeps it as
 * it is; @ws/workspace's memfs never writes outside a view). An ArrayBuffer per small file cost
 * a V8 heap object and a native backing store each (about 200 bytes for a file of 2 KiB).
 */
class Slabs {
  #buffer: ArrayBuffer | undefined;
  #used = 0;

  take(size: number): Uint8Array {
    if (size > SLAB_FILE_MAX) return new Uint8Array(size);
    if (this.#buffer === undefined || this.#used + size > SLAB_BYTES) {
      this.#buffer = new ArrayBuffer(SLAB_BYTES);
      this.#used = 0;
    }
    const out = new Uint8Array(this.#buffer, this.#used, size);
    this.#used += size;
    return out;
  }
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
