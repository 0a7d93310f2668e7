import { MountError, type MountOptions } from "@ws/core";
import {
  booleanOption,
  type ClassifyContext,
  classifyNetworkError,
  type DefinedLazyMount,
  defineLazyMount,
  enumOption,
  integerOption,
  stringOption,
  urlOption,
} from "@ws/provider-kit";
import { urlOfKey } from "./child-link.js";
import { createHttpSession, describe } from "./http-session.js";
import { createTreeLister } from "./list-tree.js";
import { ListingFormatError } from "./parse-autoindex-json.js";
import { createFileReader } from "./read-file.js";
import { createRangeReader } from "./read-range.js";
import type { HttpListing, TreeContext } from "./tree-context.js";
import { createWebdavWriter } from "./write-webdav.js";

export type { HttpListing } from "./tree-context.js";

/** Credentials sent with every request to the base URL's origin (never to another origin). */
export type HttpAuth = { readonly username: string; readonly password: string } | { readonly bearer: string };

export interface HttpTreeOptions extends MountOptions {
  /** How to list (default `"auto"`: a manifest if `manifest` is given, else WebDAV, else the index page's format). */
  readonly listing?: HttpListing | undefined;
  /** The manifest's URL, relative to the base URL (default `"manifest.json"` with `listing: "manifest"`). */
  readonly manifest?: string | undefined;
  /** Extra request headers. Every value of 8 characters or more is treated as a secret. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Basic (`{ username, password }`) or Bearer (`{ bearer }`) credentials. */
  readonly auth?: HttpAuth | undefined;
  /** Requests in flight at once (folder reads, HEADs, ranges), and the pool's sockets. Default 16. */
  readonly concurrency?: number | undefined;
  /** The wait (ms) for a response's headers, then for each piece of its body. Default 30 000. */
  readonly timeoutMs?: number | undefined;
  /**
   * Send `If-Match` / `If-None-Match: *` with conditional puts. Only for servers that honour them
   * (Apache mod_dav, Nextcloud): one that ignores them would overwrite silently, so the default
   * is false and a conditional put fails `ENOTSUP` without touching the server.
   */
  readonly conditionalWrites?: boolean | undefined;
  /** Origins (`https://cdn.example.com`) redirects may lead to besides the base URL's. Default none. */
  readonly redirectOrigins?: readonly string[] | undefined;
  /** A listing that reads more folders than this fails `EIO` (default 10 000). */
  readonly maxFolders?: number | undefined;
  /** A listing that goes deeper than this fails `EIO` (default 64). */
  readonly maxDepth?: number | undefined;
  /** Manifest pages followed through `next` at most (default 1 000). */
  readonly maxManifestPages?: number | undefined;
  /** Files at least this large are read with parallel `Range` requests where the server allows (default 16 MiB). */
  readonly rangeThreshold?: number | undefined;
  /** Parallel ranges of one large read (default 4, as rclone's multi-thread streams). */
  readonly readStreams?: number | undefined;
}

/** An `HttpTree` mount: a lazy mount with the listing format it settled on, and ranged reads. */
export type HttpTreeMount = DefinedLazyMount & {
  /** The format the last listing used (`undefined` before the first listing). */
  readonly listingFormat: Exclude<HttpListing, "auto"> | undefined;
  /**
   * Bytes [start, end) of a file (end exclusive, clipped at the file's size; an empty array when
   * `start` is at or past the end, or `end <= start`), with one `Range` request. A 206 must be
   * exactly the range asked for; from a server that ignores Range, only the bytes of the range
   * are kept (reading stops at `end`). Offsets must be non-negative integers (`EINVAL`); errors
   * as `fetch` (`ENOENT`, `EACCES`, `EISDIR`, `EIO`...).
   */
  fetchRange(relPath: string, start: number, end: number): Promise<Uint8Array>;
};

/**
 * A lazy mount of a tree served over HTTP(S) or WebDAV: a static site with a JSON manifest, an
 * nginx/Apache index (JSON or HTML), a WebDAV share (read-write with `mode: "read-write"`).
 *
 * `baseUrl` is the folder to mount (a trailing `/` is added). Credentials go in `auth` or
 * `headers`, never in the URL; a query string is refused (it would not apply to the files).
 */
export function HttpTree(baseUrl: string, options: HttpTreeOptions = {}): HttpTreeMount {
  const parsed = urlOption("baseUrl", baseUrl);
  if (parsed.search !== "" || parsed.hash !== "") {
    throw new MountError(
      "EINVAL",
      "baseUrl must not have a query string or fragment (it would not apply to the files below it); pass tokens in headers or auth",
    );
  }
  const base = new URL(parsed.href);
  if (!base.pathname.endsWith("/")) base.pathname = `${base.pathname}/`;
  const listingOption = enumOption(
    "listing",
    options.listing,
    ["auto", "manifest", "webdav", "autoindex-json", "html"],
    "auto",
  );
  const manifestPath =
    options.manifest === undefined && listingOption !== "manifest"
      ? undefined
      : stringOption("manifest", options.manifest, { default: "manifest.json" });
  const concurrency = integerOption("concurrency", options.concurrency, { default: 16, min: 1, max: 256 });
  const timeoutMs = integerOption("timeoutMs", options.timeoutMs, {
    default: 30_000,
    min: 1,
    max: 3_600_000,
  });
  const conditionalWrites = booleanOption("conditionalWrites", options.conditionalWrites, false);
  const maxFolders = integerOption("maxFolders", options.maxFolders, { default: 10_000, min: 1 });
  const maxDepth = integerOption("maxDepth", options.maxDepth, { default: 64, min: 0, max: 1024 });
  const maxManifestPages = integerOption("maxManifestPages", options.maxManifestPages, {
    default: 1000,
    min: 1,
  });
  const readStreams = integerOption("readStreams", options.readStreams, { default: 4, min: 1, max: 64 });
  const rangeThreshold = integerOption("rangeThreshold", options.rangeThreshold, {
    default: 16 * 1024 * 1024,
    min: 0,
  });
  const redirectOrigins = new Set<string>([base.origin]);
  for (const origin of options.redirectOrigins ?? []) {
    redirectOrigins.add(urlOption("redirectOrigins[]", origin).origin);
  }

  const secrets: string[] = [];
  const baseHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (typeof value !== "string") throw new MountError("EINVAL", `headers.${name} must be a string`);
    baseHeaders[name.toLowerCase()] = value;
    if (value.length >= 8) secrets.push(value);
  }
  const auth = options.auth;
  if (auth !== undefined) {
    if ("bearer" in auth && typeof auth.bearer === "string" && auth.bearer !== "") {
      baseHeaders["authorization"] = `Bearer ${auth.bearer}`;
      secrets.push(auth.bearer, baseHeaders["authorization"]);
    } else if ("username" in auth && typeof auth.username === "string" && typeof auth.password === "string") {
      const token = Buffer.from(`${auth.username}:${auth.password}`).toString("base64");
      baseHeaders["authorization"] = `Basic ${token}`;
      secrets.push(token, baseHeaders["authorization"]);
      if (auth.password.length >= 4) secrets.push(auth.password);
    } else {
      throw new MountError("EINVAL", "auth must be { username, password } or { bearer } with string values");
    }
  }

  const what = describe(base);
  const ctx: TreeContext = {
    base,
    what,
    session: createHttpSession({
      base,
      concurrency,
      timeoutMs,
      redirectOrigins,
      baseHeaders,
      onDiagnostic: options.onDiagnostic,
    }),
    config: {
      concurrency,
      maxFolders,
      maxDepth,
      maxManifestPages,
      readStreams,
      rangeThreshold,
      manifestPath,
    },
    state: {
      format: listingOption === "auto" ? undefined : listingOption,
      known: new Map(),
      folders: new Set(),
    },
  };
  const { detect, listPages } = createTreeLister(ctx);
  const fetch = createFileReader(ctx);
  const readRange = createRangeReader(ctx);
  const { put, remove } = createWebdavWriter(ctx, detect);
  const { formatError } = ctx.session;

  function classify(error: unknown, context: ClassifyContext): MountError {
    if (error instanceof ListingFormatError) return formatError(base, error);
    const network = classifyNetworkError(error);
    const reason = error instanceof Error ? error.message : String(error);
    const where = context.key === "" ? what : describe(urlOfKey(base, context.key));
    if (network) {
      return new MountError(network.code, `${context.op} ${where}: ${network.reason}`, {
        cause: error,
        transient: network.transient,
      });
    }
    return new MountError("EIO", `${context.op} ${where} failed: ${reason}`, { cause: error });
  }

  const mount = defineLazyMount({
    kind: "http",
    options,
    conditionalWrites,
    secrets: () => secrets,
    classify,
    listPages,
    fetch,
    fetchRange: readRange,
    put,
    delete: remove,
    refresh: true,
    dispose: () => ctx.session.close(),
    extra: {
      get listingFormat(): Exclude<HttpListing, "auto"> | undefined {
        return ctx.state.format;
      },
    },
  });
  return mount as HttpTreeMount;
}
