import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { access } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { git, requireGit } from "./git-repos.js";
import { validateGitHubExchange } from "./github-openapi.js";

export interface StartGitHubRestOptions {
  /** The folder holding the bare repositories: `owner/repo` is `<root>/owner/repo.git`. */
  readonly projectRoot: string;
  /** When set, requests must carry `Authorization: token|Bearer <token>`; a wrong one gets 401. */
  readonly token?: string | undefined;
  /** Recursive trees with more entries than this answer `truncated: true` (GitHub: 100,000). */
  readonly truncateAt?: number | undefined;
  /** Blobs larger than this answer 403 `too_large`, as GitHub does above 100 MB. */
  readonly maxBlobBytes?: number | undefined;
  /** Validate every response against GitHub's OpenAPI description (default true). */
  readonly validate?: boolean | undefined;
}

export interface GitHubRestRequestLog {
  readonly method: string;
  readonly path: string;
  readonly accept: string | undefined;
  readonly authorization: string | undefined;
  readonly ifNoneMatch: string | undefined;
  readonly status: number;
}

export interface GitHubRestServer {
  /** The API base URL (`baseUrl` for Octokit): `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly requests: readonly GitHubRestRequestLog[];
  /** Problems found by the OpenAPI validation; each such response was answered 500 instead. */
  readonly violations: readonly string[];
  /**
   * Primary rate limit: after `remaining` more counted requests (304s are free, as on GitHub),
   * answer 403 with `x-ratelimit-remaining: 0` until `resetInSeconds` from now. `undefined` lifts it.
   */
  setRateLimit(limit: { remaining: number; resetInSeconds: number } | undefined): void;
  /** Secondary rate limit: the next `count` requests answer 403 with `retry-after`. */
  setSecondaryLimit(limit: { count: number; retryAfterSeconds: number } | undefined): void;
  /**
   * Runs before each request is answered, and the answer waits for it: a test moves a ref between
   * two requests with it. `undefined` removes it.
   */
  setBeforeAnswer(
    hook: ((request: { method: string; path: string }) => Promise<void> | void) | undefined,
  ): void;
  stop(): Promise<void>;
}

const DOCS = "https://docs.github.com/rest";
const HEX40 = /^[0-9a-f]{40}$/;
/** Answers this long or longer are compressed for a client that accepts gzip. */
const GZIP_FROM = 1024;

interface CatFileObject {
  readonly id: string;
  readonly type: string;
  readonly bytes: Buffer;
}

/**
 * A long-lived `git cat-file --batch` of one repository: objects by id without a process each.
 * A body is copied once into an array of its announced size as it arrives (a 100 MB blob costs
 * its size, not a concatenation per chunk).
 */
class CatFile {
  readonly #child: ChildProcessWithoutNullStreams;
  /** Bytes of an unfinished header line. */
  #header: Buffer[] = [];
  /** The body being received: `size` bytes plus git's trailing newline. */
  #body: { id: string; type: string; out: Buffer; filled: number } | undefined;
  readonly #queue: { resolve(v: CatFileObject | undefined): void }[] = [];

  constructor(binary: string, dir: string) {
    this.#child = spawn(binary, ["cat-file", "--batch"], {
      cwd: dir,
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
    });
    this.#child.stdout.on("data", (chunk: Buffer) => this.#push(chunk));
    this.#child.stderr.resume();
    this.#child.stdin.on("error", () => {});
    this.#child.on("error", () => {});
  }

  #push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const body = this.#body;
      if (body) {
        const n = Math.min(body.out.length - body.filled, chunk.length - pos);
        chunk.copy(body.out, body.filled, pos, pos + n);
        body.filled += n;
        pos += n;
        if (body.filled === body.out.length) {
          this.#body = undefined;
          this.#queue.shift()?.resolve({
            id: body.id,
            type: body.type,
            bytes: body.out.subarray(0, body.out.length - 1),
          });
        }
        continue;
      }
      const newline = chunk.indexOf(0x0a, pos);
      if (newline < 0) {
        this.#header.push(chunk.subarray(pos));
        return;
      }
      this.#header.push(chunk.subarray(pos, newline));
      const parts = Buffer.concat(this.#header).toString("utf8").split(" ");
      this.#header = [];
      pos = newline + 1;
      if (parts[1] === "missing" || parts.length < 3) {
        this.#queue.shift()?.resolve(undefined);
        continue;
      }
      this.#body = {
        id: parts[0] ?? "",
        type: parts[1] ?? "",
        out: Buffer.allocUnsafe(Number(parts[2]) + 1),
        filled: 0,
      };
    }
  }

  /**
   * An object by id or by any revision expression git takes (`main^{tree}`), with its id. A name
   * holding whitespace or a control character is not asked: it would be read as two requests.
   */
  read(id: string): Promise<CatFileObject | undefined> {
    if (!/^[^\s\p{Cc}]+$/u.test(id)) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#queue.push({ resolve });
      this.#child.stdin.write(`${id}\n`);
    });
  }

  close(): void {
    this.#child.kill("SIGKILL");
  }
}

/**
 * A local server answering the few GitHub REST endpoints the lazy GitHub mount uses, from real
 * bare repositories through real `git`: `GET /repos/{owner}/{repo}/commits/{ref}` (JSON or the
 * `sha` media type), `GET /repos/{owner}/{repo}/commits?sha=&per_page=` (the newest commits of a ref), `GET .../git/trees/{tree_sha}` (with `recursive`, truncating above
 * `truncateAt`), `GET .../git/blobs/{file_sha}` (JSON/base64, or the raw bytes for the
 * `application/vnd.github.raw+json` media type GitHub documents, and the older
 * `application/vnd.github.v3.raw`; up to `maxBlobBytes`, GitHub's 100 MB). It sends ETags and answers
 * `If-None-Match` with 304, compresses answers with gzip for a client that accepts it, sends GitHub's
 * rate-limit headers and can be told to rate-limit. Every response is validated against GitHub's
 * OpenAPI description before it is sent.
 */
export async function startGitHubRest(options: StartGitHubRestOptions): Promise<GitHubRestServer> {
  const gitBinary = await requireGit();
  const requests: GitHubRestRequestLog[] = [];
  const violations: string[] = [];
  const sockets = new Set<Socket>();
  const catFiles = new Map<string, CatFile>();
  const truncateAt = options.truncateAt ?? 100_000;
  const maxBlobBytes = options.maxBlobBytes ?? 100 * 1024 * 1024;
  let rate: { remaining: number; reset: number; limit: number } | undefined;
  let secondary: { count: number; retryAfterSeconds: number } | undefined;
  let beforeAnswer: ((request: { method: string; path: string }) => Promise<void> | void) | undefined;
  let origin = "";

  const repoDir = async (owner: string, repo: string): Promise<string | undefined> => {
    if (
      !/^[\w.-]+$/.test(owner) ||
      !/^[\w.-]+$/.test(repo) ||
      owner.startsWith(".") ||
      repo.startsWith(".")
    ) {
      return undefined;
    }
    const dir = join(options.projectRoot, owner, `${repo}.git`);
    try {
      await access(join(dir, "HEAD"));
      return dir;
    } catch {
      return undefined;
    }
  };
  const catFile = (dir: string): CatFile => {
    let c = catFiles.get(dir);
    if (!c) {
      c = new CatFile(gitBinary, dir);
      catFiles.set(dir, c);
    }
    return c;
  };
  /** The id of a revision expression (`main^{commit}`), through the repository's `cat-file` (no process per request). */
  const revParse = async (dir: string, rev: string): Promise<string | undefined> => {
    if (rev.startsWith("-") || rev.includes("..")) return undefined;
    return (await catFile(dir).read(rev))?.id;
  };

  interface Answer {
    status: number;
    headers?: Record<string, string>;
    body?: Buffer;
    json?: unknown;
  }
  const error = (status: number, message: string, extra: Record<string, unknown> = {}): Answer => ({
    status,
    json: { message, documentation_url: DOCS, status: String(status), ...extra },
  });

  const route = async (req: IncomingMessage, path: string, query: URLSearchParams): Promise<Answer> => {
    const accept = String(req.headers.accept ?? "");
    const m = /^\/repos\/([^/]+)\/([^/]+)\/(commits|git\/trees|git\/blobs)(?:\/(.+)|)$/.exec(path);
    if (!m || req.method !== "GET") return error(404, "Not Found");
    const [, owner = "", repo = "", kind, rawArg = ""] = m;
    const arg = decodeURIComponent(rawArg);
    const dir = await repoDir(decodeURIComponent(owner), decodeURIComponent(repo));
    if (!dir) return error(404, "Not Found");
    const repoUrl = `${origin}/repos/${owner}/${repo}`;
    /** GitHub's commit object (the `commit` schema, without `files` and `stats`). */
    const commitJson = async (sha: string): Promise<Record<string, unknown>> => {
      const raw = (await catFile(dir).read(sha))?.bytes.toString("utf8") ?? "";
      const tree = /^tree ([0-9a-f]{40})$/m.exec(raw)?.[1] ?? "";
      const parents = [...raw.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((p) => p[1] ?? "");
      const person = (role: string): { name: string; email: string; date: string } => {
        const line = new RegExp(`^${role} (.*) <(.*)> (\\d+) [+-]\\d{4}$`, "m").exec(raw);
        return {
          name: line?.[1] ?? "",
          email: line?.[2] ?? "",
          date: new Date(Number(line?.[3] ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
        };
      };
      const message = raw.slice(raw.indexOf("\n\n") + 2);
      return {
        sha,
        node_id: Buffer.from(`commit:${sha}`).toString("base64"),
        url: `${repoUrl}/commits/${sha}`,
        html_url: `${origin}/${owner}/${repo}/commit/${sha}`,
        comments_url: `${repoUrl}/commits/${sha}/comments`,
        commit: {
          url: `${repoUrl}/git/commits/${sha}`,
          author: person("author"),
          committer: person("committer"),
          message,
          tree: { sha: tree, url: `${repoUrl}/git/trees/${tree}` },
          comment_count: 0,
        },
        author: null,
        committer: null,
        parents: parents.map((p) => ({
          sha: p,
          url: `${repoUrl}/commits/${p}`,
          html_url: `${origin}/${owner}/${repo}/commit/${p}`,
        })),
      };
    };
    if (kind === "commits" && arg === "") {
      // List commits: newest first from `sha` (default: HEAD), `per_page` of them (GitHub: at most 100).
      const start = query.get("sha") ?? "HEAD";
      const tip = await revParse(dir, `${start}^{commit}`);
      if (!tip) return error(404, `No commit found for SHA: ${start}`);
      const perPage = Math.min(100, Math.max(1, Number(query.get("per_page") ?? 30) || 30));
      const shas =
        perPage === 1
          ? [tip]
          : (await git(["rev-list", `--max-count=${perPage}`, tip], { cwd: dir })).stdout
              .toString("utf8")
              .split("\n")
              .filter((x) => HEX40.test(x));
      return { status: 200, json: await Promise.all(shas.map(commitJson)) };
    }
    if (kind === "commits") {
      const sha = await revParse(dir, `${arg}^{commit}`);
      if (!sha) return error(422, `No commit found for SHA: ${arg}`);
      if (/vnd\.github(\.v3)?\.sha/.test(accept)) {
        return {
          status: 200,
          headers: { "content-type": "application/vnd.github.sha; charset=utf-8" },
          body: Buffer.from(sha),
        };
      }
      return { status: 200, json: { ...(await commitJson(sha)), files: [] } };
    }
    if (kind === "git/trees") {
      const tree = await revParse(dir, `${arg}^{tree}`);
      if (!tree) return error(404, "Not Found");
      const recursive = query.has("recursive");
      const out = (await git(["ls-tree", "-l", "-z", ...(recursive ? ["-r", "-t"] : []), tree], { cwd: dir }))
        .stdout;
      const entries: Record<string, unknown>[] = [];
      let start = 0;
      for (let i = 0; i < out.length; i++) {
        if (out[i] !== 0) continue;
        const record = out.subarray(start, i);
        start = i + 1;
        const tab = record.indexOf(0x09);
        const [mode = "", type = "", sha = "", size = "-"] = record
          .subarray(0, tab)
          .toString("utf8")
          .split(/ +/);
        const entry: Record<string, unknown> = {
          path: record.subarray(tab + 1).toString("utf8"),
          mode,
          type,
          sha,
        };
        if (type === "blob") {
          entry["size"] = Number(size);
          entry["url"] = `${repoUrl}/git/blobs/${sha}`;
        } else if (type === "tree") entry["url"] = `${repoUrl}/git/trees/${sha}`;
        entries.push(entry);
      }
      const truncated = recursive && entries.length > truncateAt;
      return {
        status: 200,
        json: {
          sha: tree,
          url: `${repoUrl}/git/trees/${tree}`,
          tree: truncated ? entries.slice(0, truncateAt) : entries,
          truncated,
        },
      };
    }
    // git/blobs
    if (!HEX40.test(arg)) return error(404, "Not Found");
    const object = await catFile(dir).read(arg);
    if (object?.type !== "blob") return error(404, "Not Found");
    if (object.bytes.length > maxBlobBytes) {
      return error(
        403,
        "This API returns blobs up to 100 MB in size. The requested blob is too large to fetch via the API, but you can always clone the repository via Git to obtain it.",
        { errors: [{ resource: "Blob", field: "data", code: "too_large" }] },
      );
    }
    if (/vnd\.github(\.v3)?\.raw/.test(accept)) {
      return { status: 200, headers: { "content-type": "application/vnd.github.raw" }, body: object.bytes };
    }
    return {
      status: 200,
      json: {
        sha: arg,
        node_id: Buffer.from(`blob:${arg}`).toString("base64"),
        size: object.bytes.length,
        url: `${repoUrl}/git/blobs/${arg}`,
        content: (object.bytes.toString("base64").match(/.{1,60}/g) ?? []).join("\n"),
        encoding: "base64",
      },
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    let answer: Answer;
    const rateHeaders = (): Record<string, string> =>
      rate
        ? {
            "x-ratelimit-limit": String(rate.limit),
            "x-ratelimit-remaining": String(Math.max(0, rate.remaining)),
            "x-ratelimit-reset": String(rate.reset),
            "x-ratelimit-used": String(rate.limit - Math.max(0, rate.remaining)),
            "x-ratelimit-resource": "core",
          }
        : {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
            "x-ratelimit-used": "1",
            "x-ratelimit-resource": "core",
          };
    const auth = req.headers.authorization;
    const presented = auth ? /^(?:token|bearer)\s+(.+)$/i.exec(auth)?.[1] : undefined;
    if (rate && rate.reset * 1000 <= Date.now()) rate = undefined;
    if (options.token !== undefined && presented !== options.token) {
      answer = presented === undefined ? error(404, "Not Found") : error(401, "Bad credentials");
    } else if (secondary && secondary.count > 0) {
      secondary.count--;
      answer = error(
        403,
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
      );
      answer.headers = { "retry-after": String(secondary.retryAfterSeconds) };
    } else if (rate && rate.remaining <= 0) {
      answer = error(403, "API rate limit exceeded for 127.0.0.1.");
    } else {
      try {
        await beforeAnswer?.({ method: req.method ?? "GET", path: `${path}${url.search}` });
        answer = await route(req, path, url.searchParams);
      } catch (e) {
        answer = error(500, `internal error: ${(e as Error).message}`);
      }
    }
    let body = answer.body ?? Buffer.alloc(0);
    const headers: Record<string, string> = { ...rateHeaders(), ...answer.headers };
    if (answer.json !== undefined) {
      body = Buffer.from(JSON.stringify(answer.json));
      headers["content-type"] = "application/json; charset=utf-8";
    }
    let status = answer.status;
    if (status === 200) {
      const etag = `"${createHash("sha1")
        .update(body)
        .update(headers["content-type"] ?? "")
        .digest("hex")}"`;
      headers["etag"] = etag;
      const inm = req.headers["if-none-match"];
      if (inm?.split(",").some((t) => t.trim().replace(/^W\//, "") === etag)) {
        status = 304;
        body = Buffer.alloc(0);
        delete headers["content-type"];
      }
    }
    if (rate && status !== 304 && !(status === 403 && rate.remaining <= 0)) rate.remaining--;
    if (options.validate !== false) {
      const problems = validateGitHubExchange({
        method: req.method ?? "GET",
        path,
        query: url.searchParams,
        requestHeaders: req.headers,
        status,
        contentType: headers["content-type"],
        body,
      });
      if (problems.length > 0) {
        violations.push(...problems);
        status = 500;
        body = Buffer.from(JSON.stringify({ message: `OpenAPI violation: ${problems.join("; ")}` }));
        headers["content-type"] = "application/json; charset=utf-8";
        delete headers["etag"];
      }
    }
    requests.push({
      method: req.method ?? "GET",
      path: `${path}${url.search}`,
      accept: req.headers.accept,
      authorization: auth,
      ifNoneMatch: req.headers["if-none-match"],
      status,
    });
    // As GitHub: an answer is gzip-compressed when the client accepts it (after the validation,
    // which reads the JSON). Level 1, as servers compress dynamic answers for speed: a 3,000-entry
    // tree (975 KB) takes 4.5 ms to 127 KB here, the default level 10 ms to 123 KB.
    if (body.length >= GZIP_FROM && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) {
      body = gzipSync(body, { level: 1 });
      headers["content-encoding"] = "gzip";
      headers["vary"] = "Accept-Encoding";
    }
    headers["content-length"] = String(body.length);
    res.writeHead(status, headers);
    res.end(body);
  };

  const server: Server = createServer((req, res) => {
    req.resume();
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  origin = `http://127.0.0.1:${port}`;
  let stopping: Promise<void> | undefined;
  return {
    url: origin,
    requests,
    violations,
    setRateLimit(limit) {
      rate = limit
        ? {
            remaining: limit.remaining,
            limit: 5000,
            reset: Math.floor(Date.now() / 1000) + limit.resetInSeconds,
          }
        : undefined;
    },
    setSecondaryLimit(limit) {
      secondary = limit ? { ...limit } : undefined;
    },
    setBeforeAnswer(hook) {
      beforeAnswer = hook;
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        for (const c of catFiles.values()) c.close();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return stopping;
    },
  };
}
