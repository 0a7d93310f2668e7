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

/**
 * `fetch` for Octokit that keeps a response's body readable however long the caller takes.
 *
 * With `parseSuccessResponseBody: false` (blobs, trees), Octokit hands over `response.body` and
 * drops the `Response`. Node's fetch (undici) cancels the body of a `Response` the collector
 * frees while its stream is neither locked nor read, so a collection between Octokit's return and
 * the first read made a blob come back empty (0 bytes: EIO after the SHA check), about one full
 * read of 3,000 files in ten. Here the body is locked at once, by a reader that a stream of our
 * own pulls from: undici never cancels it, and it is freed with that stream.
 */
export async function keepBodyFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  const source = response.body;
  if (!source) return response;
  const reader = source.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  const kept = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  Object.defineProperty(kept, "url", { value: response.url });
  return kept;
}
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
  const secrets = token ? [token] : [];
  const where = `${baseUrl.replace(/\/$/, "")}/repos/${owner}/${name}`;

  const stats = { requests: 0, notModified: 0, cacheHits: 0 };
  const octokit: Client = new ThrottledOctokit({
    ...(token ? { auth: token } : {}),
    baseUrl,
    userAgent: "ws-mounts",
    log: { debug() {}, info() {}, warn() {}, error() {} },
    request: { fetch: keepBodyFetch },
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

  // Conditional requests: the last ETag and answer per URL. A 304 costs no rate limit.
  const conditional = new Map<string, { etag: string; data: unknown }>();
  /**
   * `json`: the body is read and parsed here with JSON.parse rather than by Octokit, whose parser
   * (json-with-bigint, for ids past 2^53) took most of the client's time on a recursive tree of
   * 3,000 entries (1 MB of JSON); a tree holds no such number.
   */
  async function get<T>(
    route: string,
    params: Record<string, unknown>,
    cacheKey: string,
    json = false,
  ): Promise<{ data: T; fresh: boolean }> {
    const known = conditional.get(cacheKey);
    try {
      const response = await octokit.request(route, {
        ...params,
        ...(known ? { headers: { "if-none-match": known.etag } } : {}),
        ...(json ? { request: { parseSuccessResponseBody: false } } : {}),
      });
      const data: unknown = json ? await readJson(response.data) : response.data;
      const etag = response.headers.etag;
      if (etag) conditional.set(cacheKey, { etag, data });
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

  async function tree(sha: string, recursive: boolean): Promise<{ tree: TreeItem[]; truncated: boolean }> {
    const { data } = await get<{ tree: TreeItem[]; truncated: boolean }>(
      "GET /repos/{owner}/{repo}/git/trees/{tree_sha}",
      { owner, repo: name, tree_sha: sha, ...(recursive ? { recursive: "1" } : {}) },
      `tree:${sha}:${recursive}`,
      true,
    );
    return data;
  }

  /** Every item below `sha`, whole: GitHub's truncated recursive trees are completed subtree by subtree. */
  async function fullTree(sha: string, base: string, out: TreeItem[]): Promise<void> {
    const whole = await tree(sha, true);
    if (!whole.truncated) {
      for (const item of whole.tree) out.push({ ...item, path: base + item.path });
      return;
    }
    const top = await tree(sha, false);
    for (const item of top.tree) {
      if (item.type === "tree") await fullTree(item.sha, `${base}${item.path}/`, out);
      else out.push({ ...item, path: base + item.path });
    }
  }

  async function resolveCommit(): Promise<{ commit: string; fresh: boolean }> {
    const { data, fresh } = await get<string | ArrayBuffer>(
      "GET /repos/{owner}/{repo}/commits/{ref}",
      { owner, repo: name, ref: ref ?? "HEAD", mediaType: { format: "sha" } },
      "commit",
    );
    const commit = (typeof data === "string" ? data : new TextDecoder().decode(data)).trim();
    if (!/^[0-9a-f]{40}$/.test(commit)) {
      throw new MountError(
        "EIO",
        `${where}: the commit of ${ref ?? "HEAD"} came back as ${JSON.stringify(commit.slice(0, 80))}`,
      );
    }
    return { commit, fresh };
  }

  async function prefixTree(commit: string): Promise<string> {
    let sha = commit;
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
    const { commit } = await resolveCommit();
    if (listing && listing.commit === commit) return listing;
    const items: TreeItem[] = [];
    await fullTree(await prefixTree(commit), "", items);
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
    const bytes = await readBody(response.data as unknown, size);
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

/**
 * The response body as bytes. `expected` (the listed size) sizes the array up front, so a large
 * blob is held once, not as chunks plus their concatenation; a body longer than that is cut at
 * one byte over (the SHA check then fails it).
 */
async function readBody(body: unknown, expected: number): Promise<Uint8Array> {
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (body instanceof Uint8Array) return body;
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (body && typeof (body as ReadableStream).getReader === "function") {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    const out = new Uint8Array(Math.max(0, expected));
    let length = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (length + value.length > out.length) {
        // Longer than listed: keep one byte over, so the size check fails, and stop reading.
        const over = new Uint8Array(out.length + 1);
        over.set(out.subarray(0, length));
        over.set(value.subarray(0, over.length - length), length);
        await reader.cancel().catch(() => {});
        return over;
      }
      out.set(value, length);
      length += value.length;
    }
    return length === out.length ? out : out.subarray(0, length).slice();
  }
  if (body === null || body === undefined) return new Uint8Array(0);
  throw new TypeError(`unexpected response body ${typeof body}`);
}

/** A JSON response body (a web stream, as Octokit hands it over unparsed), parsed. */
async function readJson(body: unknown): Promise<unknown> {
  if (typeof body === "string") return JSON.parse(body);
  if (body && typeof (body as ReadableStream).getReader === "function") {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    return JSON.parse(text + decoder.decode());
  }
  if (body instanceof ArrayBuffer || body instanceof Uint8Array)
    return JSON.parse(new TextDecoder().decode(body));
  throw new TypeError(`unexpected response body ${typeof body}`);
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
  if (status === 404 || status === 410) {
    return make(
      "ENOENT",
      `${context.where}: not found while ${context.doing} (no such repository, or no access to it)`,
    );
  }
  if (status === 422) {
    return make(
      "ENOENT",
      `${context.where}: no commit for ref ${JSON.stringify(context.ref ?? "HEAD")} (${reason})`,
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
