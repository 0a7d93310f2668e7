import { CliError } from "./cli-error.js";
import { defineProvider, type ProviderCreateInput, type ProviderDescriptor } from "./provider-registry.js";

// Descriptors are metadata only: each provider package is imported by `create`, when a mount of
// its scheme is on the command line, so `ws` never loads an HTTP client or git for a host directory.

function text(input: ProviderCreateInput, name: string): string | undefined {
  const value = input.options[name];
  return value === undefined ? undefined : String(value);
}

function count(input: ProviderCreateInput, name: string): number | undefined {
  const value = input.options[name];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new CliError(`${name}=${String(value)} in --mount is not a positive integer`);
  }
  return value;
}

function common(input: ProviderCreateInput) {
  return {
    mode: input.mode,
    ignore: input.ignore,
    maxBytes: input.maxBytes,
    maxEntries: input.maxEntries,
    onDiagnostic: input.onDiagnostic,
  };
}

const LISTINGS = ["auto", "manifest", "webdav", "autoindex-json", "html"] as const;

/**
 * HTTP(S) trees (`@ws/mount-http`): a JSON manifest, an nginx, Apache, rclone or python index, or a
 * WebDAV share (read-write with `:rw`). Credentials come from the environment, never the URL.
 */
export const httpProvider: ProviderDescriptor = defineProvider({
  kind: "http",
  description:
    "an HTTP(S) tree: JSON manifest, nginx/Apache/python index, or WebDAV, read-write over WebDAV (@ws/mount-http); credentials from $WS_HTTP_TOKEN (Bearer) or $WS_HTTP_USER and $WS_HTTP_PASSWORD (Basic)",
  schemes: ["http", "https"],
  example: "https://host/path/",
  options: [
    { name: "listing", description: `how to list: ${LISTINGS.join(", ")} (default auto)` },
    { name: "manifest", description: "the manifest's URL relative to SRC (selects listing=manifest)" },
    { name: "concurrency", description: "requests in flight (default 16)", type: "number" },
    { name: "timeout-ms", description: "wait for an answer, in ms (default 30000)", type: "number" },
  ],
  async create(input) {
    const listing = text(input, "listing");
    if (listing !== undefined && !(LISTINGS as readonly string[]).includes(listing)) {
      throw new CliError(`listing=${listing} is not one of ${LISTINGS.join(", ")}`);
    }
    if (/^https?:\/\/[^/]*@/i.test(input.source)) {
      throw new CliError(
        "put no credentials in an http(s) SRC; set WS_HTTP_TOKEN, or WS_HTTP_USER and WS_HTTP_PASSWORD",
      );
    }
    const env = input.env;
    const token = env["WS_HTTP_TOKEN"];
    const user = env["WS_HTTP_USER"];
    const auth = token
      ? { bearer: token }
      : user
        ? { username: user, password: env["WS_HTTP_PASSWORD"] ?? "" }
        : undefined;
    const manifest = text(input, "manifest");
    const concurrency = count(input, "concurrency");
    const timeoutMs = count(input, "timeout-ms");
    const { HttpTree } = await import("@ws/mount-http");
    return HttpTree(input.source, {
      ...common(input),
      ...(listing === undefined ? {} : { listing: listing as (typeof LISTINGS)[number] }),
      ...(manifest === undefined ? {} : { manifest }),
      ...(auth === undefined ? {} : { auth }),
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  },
});

/** `github:OWNER/REPO[/PATH][@REF]` → its parts (a ref may hold slashes: it is what follows the last `@`). */
export function parseGitHubSource(
  source: string,
  scheme: string,
): { repo: string; prefix: string | undefined; ref: string | undefined } {
  const body = source.slice(scheme.length + 1).replace(/^\/\//, "");
  const at = body.lastIndexOf("@");
  const path = at === -1 ? body : body.slice(0, at);
  const ref = at === -1 ? undefined : body.slice(at + 1);
  const [owner, repo, ...rest] = path.split("/");
  if (!owner || !repo || ref === "") {
    throw new CliError(`${source} is not a GitHub source; write ${scheme}:OWNER/REPO[/PATH][@REF]`);
  }
  const prefix = rest.filter(Boolean).join("/");
  return { repo: `${owner}/${repo}`, prefix: prefix === "" ? undefined : prefix, ref };
}

const GITHUB_COMMON = [
  { name: "ref", description: "branch or tag (default: the repository's default branch; or SRC@REF)" },
  { name: "prefix", description: "mount only this folder of the repository (or SRC/PATH)" },
] as const;

function gitHubParts(input: ProviderCreateInput, scheme: string) {
  const parsed = parseGitHubSource(input.source, scheme);
  const ref = text(input, "ref") ?? parsed.ref;
  const prefix = text(input, "prefix") ?? parsed.prefix;
  return {
    repo: parsed.repo,
    options: {
      ...common(input),
      // The token is read by the mount from this environment ($GITHUB_TOKEN), registered as a
      // secret there, and scrubbed from every error: ws never prints it.
      env: input.env,
      ...(ref === undefined ? {} : { ref }),
      ...(prefix === undefined ? {} : { prefix }),
    },
  };
}

/** A GitHub repository, cloned shallow into memory (`@ws/mount-github` `GitHubRepo`). */
export const githubProvider: ProviderDescriptor = defineProvider({
  kind: "github",
  description:
    "a GitHub repository, shallow-cloned into memory (@ws/mount-github GitHubRepo), read-only; token from $GITHUB_TOKEN, server from $GITHUB_SERVER_URL",
  schemes: ["github"],
  example: "github:owner/repo@ref",
  options: [
    ...GITHUB_COMMON,
    { name: "url", description: "any smart-HTTP git URL (default $GITHUB_SERVER_URL/OWNER/REPO.git)" },
    { name: "depth", description: "history depth of the clone (default 1)", type: "number" },
  ],
  async create(input) {
    const { repo, options } = gitHubParts(input, "github");
    const server = (input.env["GITHUB_SERVER_URL"] ?? "").replace(/\/+$/, "");
    const url = text(input, "url") ?? (server ? `${server}/${repo}.git` : undefined);
    const depth = count(input, "depth");
    const { GitHubRepo } = await import("@ws/mount-github");
    return GitHubRepo(repo, {
      ...options,
      ...(url === undefined ? {} : { url }),
      ...(depth === undefined ? {} : { depth }),
    });
  },
});

/** A GitHub repository read lazily over the REST API (`@ws/mount-github` `GitHubTree`). */
export const githubTreeProvider: ProviderDescriptor = defineProvider({
  kind: "github-tree",
  description:
    "a GitHub repository read file by file over the REST API (@ws/mount-github GitHubTree), read-only; token from $GITHUB_TOKEN, API from $GITHUB_API_URL",
  schemes: ["github-tree"],
  example: "github-tree:owner/repo@ref",
  options: [
    ...GITHUB_COMMON,
    { name: "api", description: "the REST API base URL (default $GITHUB_API_URL or https://api.github.com)" },
  ],
  async create(input) {
    const { repo, options } = gitHubParts(input, "github-tree");
    const baseUrl = text(input, "api") ?? (input.env["GITHUB_API_URL"] || undefined);
    const { GitHubTree } = await import("@ws/mount-github");
    return GitHubTree(repo, { ...options, ...(baseUrl === undefined ? {} : { baseUrl }) });
  },
});
