import { createHash } from "node:crypto";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import {
  type FetchResult,
  type MountEntry,
  MountError,
  type MountErrorCode,
  resolveLinkWithinRoot,
  S_IFLNK,
} from "@ws/core";
import {
  classifyHttpStatus,
  classifyNetworkError,
  type DefinedLazyMount,
  defineLazyMount,
  integerOption,
  mapConcurrent,
  type RawEntry,
  urlOption,
} from "@ws/provider-kit";
import {
  type GitDiagnostic,
  type GitHubCommonOptions,
  modeOf,
  parseRepo,
  report,
  resolvePrefix,
  resolveRef,
  resolveToken,
} from "./github-common.js";
import { restFetch } from "./rest-fetch.js";

/** Options of `GitHubTree`: the common mount options plus the REST API to ask. */
export interface GitHubTreeOptions extends GitHubCommonOptions {
  /** The REST API base URL (GitHub Enterprise: `https://HOST/api/v3`). Default `https://api.github.com`. */
  readonly baseUrl?: string | undefined;
  /** Bytes of blobs kept in memory by SHA (immutable, so never stale). Default 64 MiB; 0 turns it off. */
  readonly cacheBytes?: number | undefined;
  /**
   * The longest wait for a rate limit to reset that the mount sits out before retrying (default
   * 60 000 ms). A longer one fails at once with `EAGAIN`, saying when to retry.
   */
  readonly maxRateLimitWaitMs?: number | undefined;
  /** Retries of 5xx and network failures by Octokit's retry plugin (default 3). */
  readonly retries?: number | undefined;
  /** Fail a request `ETIMEDOUT` when the server sends nothing for this long (default 60 000 ms). */
  readonly timeoutMs?: number | undefined;
}

/** The mount `GitHubTree` returns. */
export interface GitHubTreeMount extends DefinedLazyMount {
  readonly repo: string;
  /** The commit of the last listing (`undefined` before the first `list`). */
  readonly commit: string | undefined;
  /** What the last listing did not list, or cannot read (submodules, links leaving the mount, blobs over 100 MB). */
  readonly diagnostics: readonly GitDiagnostic[];
  /** REST requests sent so far, and how many of them a 304 answered (free of rate limit). */
  readonly stats: { readonly requests: number; readonly notModified: number; readonly cacheHits: number };
  refresh(): Promise<MountEntry[]>;
}

/** GitHub's blob endpoint serves blobs up to 100 MB. */
export const GITHUB_BLOB_LIMIT: number = 100 * 1024 * 1024;

const ThrottledOctokit = Octokit.plugin(retry, throttling);

/** A stand-in root for the lexical check of link targets: a link's meaning does not depend on where the mount sits. */
const VIRTUAL_ROOT = "/mount";
/** The media type GitHub documents for a blob's raw bytes ("Returns the raw blob data"). */
const RAW = "application/vnd.github.raw+json";
type Client = InstanceType<typeof ThrottledOctokit>;

interface TreeItem {
  readonly path: string;
  readonly mode: string;
  readonly type: string;
  readonly sha: string;
  readonly size?: number | undefined;
}

/** GitHub's answer for a tree (`sha` is the tree's own, also when it was asked for by ref). */
interface TreeAnswer {
  readonly sha: string;
  readonly tree: TreeItem[];
  readonly truncated: boolean;
}

const HEX40 = /^[0-9a-f]{40}$/;

interface Listing {
  readonly commit: string;
  readonly entries: RawEntry[];
  /** Backend key (prefix included) → blob (and, for a symbolic link, its target). */
  readonly byKey: ReadonlyMap<string, { sha: string; size: number; link?: string | undefined }>;
  readonly diagnostics: GitDiagnostic[];
}

/**
 * A lazy mount of a GitHub repository through the REST API: `list()` reads the recursive tree of
 * the ref's commit (walking subtrees when GitHub truncates it), `fetch()` reads one blob by SHA
 * with the raw media type. Nothing is cloned, so an agent can grep a large repository by reading
 * only what it opens.
 *
 * ```ts
 * mounts: { "/workspace/agents": GitHubTree("cloudflare/agents", { env, ref: "main" }) }
 * ```
 */
export function GitHubTree(repo: string, options: GitHubTreeOptions = {}): GitHubTreeMount {
  const what = "GitHubTree";
  const { owner, name } = parseRepo(repo, what);
  // mode: "read-write" is accepted and means nothing more: the mount has no way to write, it
  // reports writable: false, and put/delete fail EROFS.
  const token = resolveToken(options, what);
  const ref = resolveRef(options.ref, what);
  const prefix = resolvePrefix(options.prefix);
  const baseUrl =
    options.baseUrl === undefined
      ? "https://api.github.com"
      : urlOption("baseUrl", options.baseUrl).toString().replace(/\/$/, "");
  const cacheBytes = integerOption("cacheBytes", options.cacheBytes, {
    default: 64 * 1024 * 1024,
    min: 0,
    max: 2 ** 40,
  });
  const maxWaitMs = integerOption("maxRateLimitWaitMs", options.maxRateLimitWaitMs, {
    default: 60_000,
    min: 0,
    max: 86_400_000,
  });
  const retries = integerOption("retries", options.retries, { default: 3, min: 0, max: 20 });
  const timeoutMs = integerOption("timeoutMs", options.timeoutMs, {
    default: 60_000,
    min: 1,
    max: 86_400_000,
  });
  const secrets = token ? [token] : [];
  const where = `${baseUrl.replace(/\/$/, "")}/repos/${owner}/${name}`;

  const stats = { requests: 0, notModified: 0, cacheHits: 0 };
  // The largest answer is a blob at the API's limit; a tree is at most 7 MB of JSON.
  const http = restFetch({ timeoutMs, connections: 16, maxBodyBytes: GITHUB_BLOB_LIMIT + 1024 * 1024 });
  const octokit: Client = new ThrottledOctokit({
    ...(token ? { auth: token } : {}),
    baseUrl,
    userAgent: "ws-mounts",
    log: { debug() {}, info() {}, warn() {}, error() {} },
    request: { fetch: http },
    throttle: {
      // Wait out a rate limit once when it resets soon enough; otherwise fail with EAGAIN.
      onRateLimit: (retryAfter: number, _o: unknown, _k: unknown, retryCount: number) =>
        retryCount < 1 && retryAfter * 1000 <= maxWaitMs,
      onSecondaryRateLimit: (retryAfter: number, _o: unknown, _k: unknown, retryCount: number) =>
        retryCount < 1 && retryAfter * 1000 <= maxWaitMs,
    },
    retry: { retries, doNotRetry: [304, 400, 401, 403, 404, 410, 422, 429, 451] },
  });
  octokit.hook.before("request", () => {
    stats.requests++;
  });

  // Conditional requests: the last ETag and answer per URL. A 304 costs no rate limit. The first
  // listing's answers (by ref) are not kept: they are not asked for again.
  const conditional = new Map<string, { etag: string; data: unknown }>();
  /**
   * `json`: the body is read and parsed here with JSON.parse rather than by Octokit, whose parser
   * (json-with-bigint, for ids past 2^53) took most of the client's time on a recursive tree of
   * 3,000 entries (1 MB of JSON); a tree holds no such number.
   */
  async function get<T>(
    route: string,
    params: Record<string, unknown>,
    cacheKey: string | undefined,
    json = false,
  ): Promise<{ data: T; fresh: boolean }> {
    const known = cacheKey === undefined ? undefined : conditional.get(cacheKey);
    try {
      const response = await octokit.request(route, {
        ...params,
        ...(known ? { headers: { "if-none-match": known.etag } } : {}),
        ...(json ? { request: { parseSuccessResponseBody: false } } : {}),
      });
      const data: unknown = json ? readJson(response.data) : response.data;
      const etag = response.headers.etag;
      if (etag && cacheKey !== undefined) conditional.set(cacheKey, { etag, data });
      return { data: data as T, fresh: true };
    } catch (error) {
      if ((error as { status?: number }).status === 304 && known) {
        stats.notModified++;
        return { data: known.data as T, fresh: false };
      }
      throw error;
    }
  }

  const blobCache = new Map<string, Uint8Array>();
  let cachedBytes = 0;
  const remember = (sha: string, bytes: Uint8Array): void => {
    if (bytes.length > cacheBytes) return;
    blobCache.set(sha, bytes);
    cachedBytes += bytes.length;
    for (const [oldest, old] of blobCache) {
      if (cachedBytes <= cacheBytes) break;
      blobCache.delete(oldest);
      cachedBytes -= old.length;
    }
  };

  let listing: Listing | undefined;
  let listingRun: Promise<Listing> | undefined;

  /** A tree by SHA (kept with its ETag) or, `byRef`, by ref name (not kept: it is not asked again). */
  async function tree(sha: string, recursive: boolean, byRef = false): Promise<TreeAnswer> {
    const { data } = await get<TreeAnswer>(
      "GET /repos/{owner}/{repo}/git/trees/{tree_sha}",
      { owner, repo: name, tree_sha: sha, ...(recursive ? { recursive: "1" } : {}) },
      byRef ? undefined : `tree:${sha}:${recursive}`,
      true,
    );
    return data;
  }

  /**
   * Every item below `sha`, whole: GitHub's truncated recursive trees are completed subtree by
   * subtree. `whole`: the recursive answer for `sha`, when it was already asked for.
   */
  async function fullTree(
    sha: string,
    base: string,
    out: TreeItem[],
    whole: { tree: TreeItem[]; truncated: boolean } | undefined = undefined,
  ): Promise<void> {
    whole ??= await tree(sha, true);
    if (!whole.truncated) {
      if (base === "") out.push(...whole.tree);
      else for (const item of whole.tree) out.push({ ...item, path: base + item.path });
      return;
    }
    const top = await tree(sha, false);
    for (const item of top.tree) {
      if (item.type === "tree") await fullTree(item.sha, `${base}${item.path}/`, out);
      else out.push({ ...item, path: base + item.path });
    }
  }

  /**
   * The ref's newest commit and its tree: the list of commits from the ref, one long (it names
   * the commit's tree, and is kept with its ETag, so asking again when nothing moved is a 304).
   */
  async function resolveCommit(): Promise<{ commit: string; tree: string }> {
    const { data } = await get<{ sha?: unknown; commit?: { tree?: { sha?: unknown } } }[]>(
      "GET /repos/{owner}/{repo}/commits",
      { owner, repo: name, per_page: 1, ...(ref === undefined ? {} : { sha: ref }) },
      "commit",
      true,
    );
    const newest = Array.isArray(data) ? data[0] : undefined;
    const commit = newest?.sha;
    const tree = newest?.commit?.tree?.sha;
    if (typeof commit !== "string" || !HEX40.test(commit) || typeof tree !== "string" || !HEX40.test(tree)) {
      throw new MountError(
        "EIO",
        `${where}: the newest commit of ${ref ?? "the default branch"} came back as ${JSON.stringify(JSON.stringify(data).slice(0, 120))}`,
      );
    }
    return { commit, tree };
  }

  async function prefixTree(root: string, commit: string): Promise<string> {
    let sha = root;
    if (prefix === "") return sha;
    for (const segment of prefix.split("/")) {
      const item = (await tree(sha, false)).tree.find((i) => i.path === segment);
      if (item?.type !== "tree") {
        throw new MountError(
          "ENOENT",
          `prefix ${JSON.stringify(prefix)} is not a folder in ${owner}/${name} at ${commit.slice(0, 12)}`,
        );
      }
      sha = item.sha;
    }
    return sha;
  }

  async function buildListing(): Promise<Listing> {
    // The first listing of a whole repository asks for the ref's recursive tree (the tree
    // endpoint takes a ref as well as a SHA) while it asks for the ref's commit: one round trip,
    // not two. The tree is used only when it is the commit's (the ref can move between the two
    // answers); otherwise, or when the by-ref request failed, the commit's tree is asked for.
    // The tree first: it is the long one, and Octokit's limiters send the second request a few
    // milliseconds after the first.
    const early =
      listing === undefined && prefix === ""
        ? tree(ref ?? "HEAD", true, true).catch(() => undefined)
        : undefined;
    const head = await resolveCommit();
    const whole = await early;
    if (listing && listing.commit === head.commit) return listing;
    const commit = head.commit;
    const items: TreeItem[] = [];
    if (whole?.sha === head.tree) await fullTree(head.tree, "", items, whole);
    else await fullTree(await prefixTree(head.tree, commit), "", items);
    const raw: RawEntry[] = [];
    const byKey = new Map<string, { sha: string; size: number; link?: string }>();
    const base = prefix === "" ? "" : `${prefix}/`;
    const diagnostics: GitDiagnostic[] = [];
    // A link is listed only when its target stays inside the mount, so its target is read with
    // the listing (one small blob each, eight at a time, kept by SHA).
    const links = items.filter((i) => i.type === "blob" && i.mode === "120000");
    const targets = await mapConcurrent(links, 8, (item) => linkTarget(item.sha, item.size ?? 0, item.path));
    const targetOf = new Map(links.map((item, i) => [item.path, targets[i] ?? ""]));
    for (const item of items) {
      if (item.type === "tree") continue;
      if (item.type === "commit" || item.mode === "160000") {
        diagnostics.push({
          code: "submodule",
          key: item.path,
          message: `${item.path} is a submodule (commit ${item.sha.slice(0, 12)}); not listed`,
        });
        continue;
      }
      const size = item.size ?? 0;
      if (item.mode === "120000") {
        const target = targetOf.get(item.path) ?? "";
        try {
          resolveLinkWithinRoot(VIRTUAL_ROOT, `${VIRTUAL_ROOT}/${item.path}`, target);
        } catch {
          diagnostics.push({
            code: "symlink-outside-root",
            key: item.path,
            message: `${item.path} links to ${JSON.stringify(target)}, outside the mount; not listed`,
          });
          continue;
        }
        // Listed with a link's permission bits; fetchWithInfo says it is a link (S_IFLNK) and
        // gives the target as its bytes, so the workspace makes it a link when it is read.
        raw.push({ key: base + item.path, size, mode: 0o777, etag: item.sha });
        byKey.set(base + item.path, { sha: item.sha, size, link: target });
        continue;
      }
      if (size > GITHUB_BLOB_LIMIT) {
        diagnostics.push({
          code: "blob-too-large",
          key: item.path,
          message: `${item.path} is ${size} bytes, over the REST API's 100 MB blob limit; reading it fails with ENOTSUP (GitHubRepo clones it)`,
        });
      }
      raw.push({ key: base + item.path, size, mode: modeOf(item.mode), etag: item.sha });
      byKey.set(base + item.path, { sha: item.sha, size });
    }
    for (const d of diagnostics) report(options, d);
    return { commit, entries: raw, byKey, diagnostics };
  }

  async function listing$(): Promise<Listing> {
    // Concurrent listings share one walk.
    listingRun ??= buildListing().finally(() => {
      listingRun = undefined;
    });
    listing = await listingRun;
    return listing;
  }

  /** A blob's bytes by SHA with the raw media type, checked against the SHA; cached (immutable). */
  async function blob(sha: string, size: number, relPath: string): Promise<Uint8Array> {
    const cached = blobCache.get(sha);
    if (cached) {
      stats.cacheHits++;
      return cached;
    }
    if (size > GITHUB_BLOB_LIMIT) {
      throw new MountError(
        "ENOTSUP",
        `${relPath} is ${size} bytes; GitHub's REST API serves blobs up to 100 MB. Mount the repository with GitHubRepo (a git clone) to read it`,
        { path: relPath, syscall: "open" },
      );
    }
    const response = await octokit.request("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", {
      owner,
      repo: name,
      file_sha: sha,
      headers: { accept: RAW },
      // Without this Octokit decodes the raw body as text, which breaks binary files.
      request: { parseSuccessResponseBody: false },
    });
    const bytes = bodyBytes(response.data as unknown);
    if (bytes.length !== size || blobSha(bytes) !== sha) {
      throw new MountError(
        "EIO",
        `${relPath}: the blob read back (${bytes.length} bytes) does not match ${sha} (${size} bytes)`,
        { path: relPath, syscall: "read", transient: true },
      );
    }
    remember(sha, bytes);
    return bytes;
  }

  const linkTargets = new Map<string, string>();
  async function linkTarget(sha: string, size: number, path: string): Promise<string> {
    let target = linkTargets.get(sha);
    if (target === undefined) {
      target = new TextDecoder().decode(await blob(sha, size, path));
      linkTargets.set(sha, target);
    }
    return target;
  }

  async function fetchEntry(key: string, relPath: string): Promise<FetchResult> {
    const current = listing ?? (await listing$());
    const entry = current.byKey.get(key);
    if (!entry) {
      throw new MountError(
        "ENOENT",
        `${relPath} is not a file of ${owner}/${name} at ${current.commit.slice(0, 12)}`,
        { path: relPath, syscall: "open" },
      );
    }
    if (entry.link !== undefined) {
      return { bytes: new TextEncoder().encode(entry.link), mode: S_IFLNK | 0o777, etag: entry.sha };
    }
    // The caller owns what fetch returns: a copy when the array is also in the cache.
    const bytes = await blob(entry.sha, entry.size, relPath);
    return { bytes: blobCache.get(entry.sha) === bytes ? bytes.slice() : bytes, etag: entry.sha };
  }

  return defineLazyMount({
    kind: "github-tree",
    // The kit derives writable from mode; this mount cannot write, so it says read-only whatever
    // was asked (shape.capabilities: never writable without a way to write).
    options: { ...options, mode: "read-only" },
    prefix,
    // Octokit's retry plugin retries 5xx and network failures, its throttling plugin rate limits:
    // the kit's retry layer must not retry them again.
    retries: "client",
    secrets: () => secrets,
    classify: (error, context) =>
      classifyRestError(error, {
        where,
        doing: context.op === "list" ? "listing" : `reading ${context.relPath}`,
        ref,
        path: context.relPath,
      }),
    async *listPages() {
      yield (await listing$()).entries;
    },
    fetch: async (key, context) => (await fetchEntry(key, context.relPath)).bytes,
    fetchWithInfo: (key, context) => fetchEntry(key, context.relPath),
    refresh: true,
    dispose() {
      http.close();
      blobCache.clear();
      linkTargets.clear();
      cachedBytes = 0;
      conditional.clear();
    },
    extra: {
      repo: `${owner}/${name}`,
      get commit(): string | undefined {
        return listing?.commit;
      },
      get diagnostics(): readonly GitDiagnostic[] {
        return listing?.diagnostics ?? [];
      },
      stats,
    },
  }) as GitHubTreeMount;
}

/** The git object id of a blob: SHA-1 over `blob <size>\0` and the bytes. */
function blobSha(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** The bytes of an answer Octokit hands over unparsed: `restFetch` reads every body whole. */
function bodyBytes(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (body === null || body === undefined) return new Uint8Array(0);
  throw new TypeError(`unexpected response body ${typeof body}`);
}

/** A JSON answer Octokit hands over unparsed, parsed. */
function readJson(body: unknown): unknown {
  const bytes = bodyBytes(body);
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
}

/** When a rate-limited answer says to come back, from its headers. */
function retryAt(headers: Record<string, unknown> | undefined): number | undefined {
  if (!headers) return undefined;
  const after = Number(headers["retry-after"]);
  if (Number.isFinite(after) && after > 0) return Date.now() + after * 1000;
  if (headers["x-ratelimit-remaining"] === "0") {
    const reset = Number(headers["x-ratelimit-reset"]);
    if (Number.isFinite(reset) && reset > 0) return reset * 1000;
  }
  return undefined;
}

/** Octokit's failures as MountErrors with a POSIX code. */
export function classifyRestError(
  error: unknown,
  context: { where: string; doing: string; ref: string | undefined; path: string },
): MountError {
  if (MountError.isInstance(error)) return error;
  const e = error as {
    status?: number;
    message?: string;
    response?: { headers?: Record<string, unknown>; data?: { errors?: { code?: string }[] } };
  };
  const status = e?.status ?? 0;
  const reason = e?.message ?? String(error);
  const base = { cause: error, path: context.path };
  const make = (code: string, message: string, extra: Record<string, unknown> = {}): MountError =>
    new MountError(code as MountErrorCode, message, { ...base, ...extra });
  const at = retryAt(e?.response?.headers);
  if ((status === 403 || status === 429) && at !== undefined) {
    const seconds = Math.max(0, Math.ceil((at - Date.now()) / 1000));
    return make(
      "EAGAIN",
      `${context.where}: GitHub's API rate limit is exhausted (${context.doing}); retry after ${new Date(at).toISOString()} (in ${seconds} s), or use a token with a higher limit`,
      { transient: true, retryAfterMs: seconds * 1000 },
    );
  }
  if (status === 403 && e?.response?.data?.errors?.some((x) => x.code === "too_large")) {
    return make(
      "ENOTSUP",
      `${context.where}: ${context.path} is over the REST API's 100 MB blob limit; mount the repository with GitHubRepo (a git clone) to read it`,
    );
  }
  // GitHub answers a ref it cannot find with "No commit found for SHA: <ref>" (404 when listing
  // commits, 422 for one commit); the repository itself is there.
  if (status === 422 || ((status === 404 || status === 409) && /no commit found/i.test(reason))) {
    return make(
      "ENOENT",
      `${context.where}: no commit for ref ${JSON.stringify(context.ref ?? "HEAD")} (${reason})`,
    );
  }
  if (status === 404 || status === 410) {
    return make(
      "ENOENT",
      `${context.where}: not found while ${context.doing} (no such repository, or no access to it)`,
    );
  }
  if (status === 401 || status === 403) {
    return make(
      "EACCES",
      `${context.where}: GitHub refused the request (HTTP ${status}: ${reason}); check the token (token or env.GITHUB_TOKEN) and its permissions`,
    );
  }
  if (status === 0 || (status === 500 && !e?.response)) {
    // Octokit reports a failed fetch as status 500 without a response: a network failure.
    const c = classifyNetworkError((error as { cause?: unknown })?.cause ?? error);
    return make(c?.code ?? "EIO", `${context.where}: ${context.doing} failed (${c?.reason ?? reason})`, {
      transient: c?.transient ?? true,
    });
  }
  const c = classifyHttpStatus(status, { what: `${context.where}: ${context.doing}` });
  return make(c.code, `${c.reason}: ${reason}`, { transient: c.transient });
}
