import { createHash } from "node:crypto";
import { MountError, type MountOptions, type PutOptions } from "@ws/core";
import {
  booleanOption,
  type ClassifyContext,
  classifyNetworkError,
  type DefinedLazyMount,
  defineLazyMount,
  enumOption,
  type HttpResponse,
  httpPool,
  httpStatusError,
  integerOption,
  type PutResult,
  paginate,
  parseRetryAfter,
  type RawEntry,
  stringOption,
  urlOption,
} from "@ws/provider-kit";
import { urlOfKey } from "./child-link.js";
import { ListingFormatError, parseAutoindexJson } from "./parse-autoindex-json.js";
import { parseHtmlIndex } from "./parse-html-index.js";
import { parseManifest } from "./parse-manifest.js";
import { parsePropfind } from "./parse-propfind.js";
import { type ReadIntoOptions, readInto } from "./read-into.js";
import { SocketReadUnsupported, socketRead } from "./socket-read.js";
import { type FolderResult, walkTree } from "./walk-tree.js";

/** How the tree is listed. `"auto"` asks the server (see the README). */
export type HttpListing = "auto" | "manifest" | "webdav" | "autoindex-json" | "html";

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

/** An `HttpTree` mount: a lazy mount with the listing format it settled on. */
export type HttpTreeMount = DefinedLazyMount & {
  /** The format the last listing used (`undefined` before the first listing). */
  readonly listingFormat: Exclude<HttpListing, "auto"> | undefined;
};

/** What the mount knows of one file from its last listing (or its own last put). */
interface Known {
  readonly size: number;
  readonly sha256?: string | undefined;
  readonly etag?: string | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
/** 423 answers waited out (10 ms, 20 ms, ... about 2 s in all) before EBUSY. */
const LOCK_WAITS = 20;
const MAX_LISTING_BYTES = 256 * 1024 * 1024;

function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A `Content-Range: bytes START-END/TOTAL` header, or undefined. */
function contentRange(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): { start: number; end: number; total: number } | undefined {
  const raw = headers["content-range"];
  const match = /^\s*bytes\s+(\d+)-(\d+)\/(\d+)\s*$/i.exec((Array.isArray(raw) ? raw[0] : raw) ?? "");
  if (!match) return undefined;
  return { start: Number(match[1]), end: Number(match[2]), total: Number(match[3]) };
}

function describe(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>' +
  "<D:resourcetype/><D:getcontentlength/><D:getlastmodified/><D:getetag/></D:prop></D:propfind>";

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

  const pool = httpPool(base.origin, {
    connections: concurrency,
    headersTimeoutMs: timeoutMs,
    bodyTimeoutMs: timeoutMs,
  });
  const what = describe(base);
  let format: Exclude<HttpListing, "auto"> | undefined = listingOption === "auto" ? undefined : listingOption;
  let known = new Map<string, Known>();
  let folders = new Set<string>();

  const headersFor = (url: URL, extra: Record<string, string> = {}): Record<string, string> =>
    // Credentials and extra headers only ever go to the base URL's origin.
    url.origin === base.origin ? { ...baseHeaders, ...extra } : { ...extra };

  /** One request, following redirects (GET, HEAD, PROPFIND only) within the allowed origins. */
  async function send(
    method: string,
    url: URL,
    init: {
      headers?: Record<string, string>;
      body?: Uint8Array | string;
      maxBytes?: number;
      place?: ReadIntoOptions["place"];
    } = {},
  ): Promise<HttpResponse & { readonly url: URL }> {
    let current = url;
    let locked = 0;
    for (let hop = 0; ; hop++) {
      const poolOf = current.origin === base.origin ? pool : httpPool(current.origin);
      // Every request through readInto: bodies land straight in their final buffer (see there
      // why not the kit's httpRequest).
      const response = await readInto(poolOf, current, {
        method,
        headers: headersFor(current, init.headers),
        body: init.body,
        timeoutMs,
        maxBytes: init.maxBytes,
        place: init.place,
      });
      if (response.status === 423 && locked < LOCK_WAITS) {
        // 423 Locked: WebDAV servers (rclone) lock a resource while another request on it runs.
        // That is a wait for a lock held a few milliseconds, not a failure to retry: wait here.
        locked++;
        hop--;
        await new Promise((resolve) => setTimeout(resolve, 10 * locked));
        continue;
      }
      if (response.status === 423) {
        throw new MountError(
          "EBUSY",
          `${method} ${describe(current)}: the resource stays locked (HTTP 423)`,
          {
            transient: true,
          },
        );
      }
      if (!REDIRECTS.has(response.status) || method === "PUT" || method === "DELETE" || method === "MKCOL") {
        return { ...response, url: current };
      }
      const location = header(response, "location");
      if (location === undefined) return { ...response, url: current };
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new MountError(
          "EIO",
          `${method} ${describe(current)}: the server redirected to an invalid URL`,
        );
      }
      if (!redirectOrigins.has(next.origin) || (next.protocol !== "https:" && next.protocol !== "http:")) {
        throw new MountError(
          "EIO",
          `${method} ${describe(current)}: refused a redirect to another origin (${next.origin}); allow it with redirectOrigins`,
        );
      }
      if (next.pathname === `${current.pathname}/` && !current.pathname.endsWith("/")) {
        // "dir" → "dir/": the path is a folder.
        throw new MountError(
          "EISDIR",
          `${describe(current)} is a folder (the server redirects it to ${next.pathname})`,
        );
      }
      if (hop >= MAX_REDIRECTS) {
        throw new MountError("EIO", `${method} ${describe(url)}: more than ${MAX_REDIRECTS} redirects`);
      }
      current = next;
    }
  }

  function statusError(response: HttpResponse & { url: URL }, method: string): MountError {
    const retryAfterMs = parseRetryAfter(header(response, "retry-after"));
    return httpStatusError(response.status, {
      what: `${method} ${describe(response.url)}`,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }

  function checkOk(response: HttpResponse & { url: URL }, method: string): void {
    if (response.status < 200 || response.status > 299) throw statusError(response, method);
  }

  function report(key: string, reason: string, where: URL): void {
    options.onDiagnostic?.({
      code: "invalid-path",
      key: key.slice(0, 300),
      message: `${describe(where)}: skipped ${JSON.stringify(key.slice(0, 300))}: ${reason}`,
    });
  }

  const decoder = new TextDecoder();
  const text = (bytes: Uint8Array): string => decoder.decode(bytes);

  function formatError(url: URL, error: unknown): MountError {
    return new MountError("EIO", `listing ${describe(url)}: ${(error as Error).message}`, { cause: error });
  }

  // --- Listing formats -------------------------------------------------------------------------

  async function detect(): Promise<Exclude<HttpListing, "auto">> {
    if (manifestPath !== undefined) return "manifest";
    const dav = await send("PROPFIND", base, {
      headers: { depth: "0", "content-type": "application/xml; charset=utf-8" },
      body: PROPFIND_BODY,
      maxBytes: 1024 * 1024,
    });
    if (dav.status === 207) return "webdav";
    if (dav.status === 401 || dav.status === 403) throw statusError(dav, "PROPFIND");
    const page = await send("GET", base, {
      headers: { accept: "application/json, text/html;q=0.9" },
      maxBytes: MAX_LISTING_BYTES,
    });
    checkOk(page, "GET");
    const type = header(page, "content-type") ?? "";
    if (/json/i.test(type)) return "autoindex-json";
    if (/html/i.test(type)) return "html";
    throw new MountError(
      "EIO",
      `${what}: cannot tell how this server lists folders (Content-Type ${JSON.stringify(type)}, no WebDAV); pass listing: "manifest", "webdav", "autoindex-json" or "html"`,
    );
  }

  async function* listManifest(): AsyncGenerator<RawEntry[]> {
    const first = new URL(manifestPath ?? "manifest.json", base);
    for await (const page of paginate<RawEntry, string>(
      async (cursor) => {
        const url = new URL(cursor ?? first.href);
        const response = await send("GET", url, { maxBytes: MAX_LISTING_BYTES });
        checkOk(response, "GET");
        let manifest: ReturnType<typeof parseManifest>;
        try {
          manifest = parseManifest(text(response.body));
        } catch (error) {
          throw formatError(url, error);
        }
        for (const s of manifest.skipped) report(s.name, s.reason, url);
        let next: string | undefined;
        if (manifest.next !== undefined) {
          const nextUrl = new URL(manifest.next, url);
          if (
            nextUrl.origin !== base.origin ||
            !nextUrl.pathname.startsWith(base.pathname) ||
            nextUrl.search !== ""
          ) {
            throw new MountError(
              "EIO",
              `manifest ${describe(url)}: "next" leaves the base URL (${describe(nextUrl)}); refusing to follow it`,
            );
          }
          next = nextUrl.href;
        }
        const items = manifest.files.map((file): RawEntry => {
          known.set(file.path, { size: file.size, sha256: file.sha256, etag: file.etag });
          return {
            key: file.path,
            size: file.size,
            ...(file.mtime !== undefined ? { mtime: file.mtime } : {}),
            ...(file.etag !== undefined ? { etag: file.etag } : {}),
            ...(file.mode !== undefined ? { mode: file.mode } : {}),
          };
        });
        return { items, cursor: next, truncated: next !== undefined };
      },
      { what: describe(first), maxPages: maxManifestPages },
    )) {
      yield page;
    }
  }

  async function propfind(url: URL, depth: "1" | "infinity"): Promise<HttpResponse & { url: URL }> {
    return send("PROPFIND", url, {
      headers: { depth, "content-type": "application/xml; charset=utf-8" },
      body: PROPFIND_BODY,
      maxBytes: MAX_LISTING_BYTES,
    });
  }

  function davEntries(response: HttpResponse & { url: URL }, folder: string): FolderResult<RawEntry> {
    let parsedDav: ReturnType<typeof parsePropfind>;
    try {
      parsedDav = parsePropfind(text(response.body), response.url, base);
    } catch (error) {
      throw formatError(response.url, error);
    }
    for (const s of parsedDav.skipped) report(s.name, s.reason, response.url);
    const files: RawEntry[] = [];
    const subfolders: string[] = [];
    for (const resource of parsedDav.resources) {
      if (resource.key === "" || resource.key === folder) continue;
      if (resource.collection) {
        folders.add(resource.key);
        subfolders.push(resource.key);
        continue;
      }
      known.set(resource.key, { size: resource.size ?? 0, etag: resource.etag });
      files.push({
        key: resource.key,
        size: resource.size ?? 0,
        ...(resource.mtime !== undefined ? { mtime: resource.mtime } : {}),
        ...(resource.etag !== undefined ? { etag: resource.etag } : {}),
      });
    }
    return { files, folders: subfolders };
  }

  async function* listWebdav(): AsyncGenerator<RawEntry[]> {
    // One request for the whole tree where the server allows Depth: infinity (rclone, Apache with
    // DavDepthInfinity); a Depth 1 walk where it refuses (403 propfind-finite-depth, 400, 501).
    const whole = await propfind(base, "infinity");
    let roots = [""];
    if (whole.status === 207) {
      const result = davEntries(whole, "");
      yield [...result.files];
      // A server that answers Depth: infinity with one level only would hide whole subtrees:
      // every collection that came back without anything below it is walked with Depth 1 (an
      // empty folder costs one request).
      const filled = new Set<string>();
      for (const key of [...result.files.map((f) => f.key), ...result.folders]) {
        for (let at = key.lastIndexOf("/"); at > 0; at = key.lastIndexOf("/", at - 1)) {
          filled.add(key.slice(0, at));
        }
      }
      roots = result.folders.filter((folder) => !filled.has(folder));
      if (roots.length === 0) return;
    } else if (whole.status === 401 || whole.status === 404 || whole.status === 410) {
      // (A 403 may be RFC 4918's <propfind-finite-depth/> refusal of Depth: infinity: Depth 1 tells.)
      throw statusError(whole, "PROPFIND");
    }
    yield* walkTree(
      async (folder) => {
        const url = urlOfKey(base, folder, true);
        const response = await propfind(url, "1");
        if (response.status !== 207) throw statusError(response, "PROPFIND");
        const result = davEntries(response, folder);
        // Only direct children: a server answering Depth 1 with more is not trusted to nest.
        const prefix = folder === "" ? "" : `${folder}/`;
        const direct = (key: string): boolean =>
          key.startsWith(prefix) && !key.slice(prefix.length).includes("/");
        return { files: result.files.filter((f) => direct(f.key)), folders: result.folders.filter(direct) };
      },
      { what, concurrency, maxFolders, maxDepth, roots },
    );
  }

  async function* listAutoindexJson(): AsyncGenerator<RawEntry[]> {
    yield* walkTree(
      async (folder) => {
        const url = urlOfKey(base, folder, true);
        const response = await send("GET", url, {
          headers: { accept: "application/json" },
          maxBytes: MAX_LISTING_BYTES,
        });
        checkOk(response, "GET");
        let index: ReturnType<typeof parseAutoindexJson>;
        try {
          index = parseAutoindexJson(text(response.body));
        } catch (error) {
          throw formatError(url, error);
        }
        for (const s of index.skipped) report(s.name, s.reason, url);
        const prefix = folder === "" ? "" : `${folder}/`;
        const files: RawEntry[] = [];
        const subfolders: string[] = [];
        for (const row of index.rows) {
          const key = `${prefix}${row.name}`;
          if (row.directory) {
            folders.add(key);
            subfolders.push(key);
          } else {
            known.set(key, { size: row.size ?? 0 });
            files.push({
              key,
              size: row.size ?? 0,
              ...(row.mtime !== undefined ? { mtime: row.mtime } : {}),
            });
          }
        }
        return { files, folders: subfolders };
      },
      { what, concurrency, maxFolders, maxDepth },
    );
  }

  /** HEAD one file of an HTML index: its size, ETag and Last-Modified, or a folder if it redirects to `name/`. */
  async function head(key: string): Promise<RawEntry | "folder" | undefined> {
    const url = urlOfKey(base, key);
    let response: HttpResponse & { url: URL };
    try {
      response = await send("HEAD", url);
    } catch (error) {
      if (MountError.hasCode(error, "EISDIR")) return "folder";
      throw error;
    }
    if (response.status === 404 || response.status === 410) {
      report(key, "listed, but HEAD answers 404 (removed while listing)", url);
      return undefined;
    }
    checkOk(response, "HEAD");
    const size = Number(header(response, "content-length"));
    if (!Number.isSafeInteger(size) || size < 0) {
      report(key, "HEAD gives no Content-Length, so the size is unknown", url);
      return undefined;
    }
    const etag = header(response, "etag");
    const modified = header(response, "last-modified");
    const mtime = modified === undefined ? Number.NaN : Date.parse(modified);
    known.set(key, { size, etag });
    return {
      key,
      size,
      ...(etag !== undefined ? { etag } : {}),
      ...(Number.isFinite(mtime) ? { mtime } : {}),
    };
  }

  async function* listHtml(): AsyncGenerator<RawEntry[]> {
    yield* walkTree(
      async (folder) => {
        const url = urlOfKey(base, folder, true);
        const response = await send("GET", url, {
          headers: { accept: "text/html" },
          maxBytes: MAX_LISTING_BYTES,
        });
        checkOk(response, "GET");
        const index = parseHtmlIndex(text(response.body), url);
        for (const s of index.skipped) report(s.name, s.reason, url);
        const prefix = folder === "" ? "" : `${folder}/`;
        const subfolders: string[] = [];
        const names: string[] = [];
        const files: RawEntry[] = [];
        for (const row of index.rows) {
          const key = `${prefix}${row.name}`;
          if (row.directory) subfolders.push(key);
          else if (row.size !== undefined) {
            // An exact size printed by a known layout (nginx, rclone): no HEAD needed.
            known.set(key, { size: row.size });
            files.push({ key, size: row.size });
          } else names.push(key);
        }
        // Files whose size the page does not print exactly: HEAD each.
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < names.length) {
            const key = names[next++] as string;
            const entry = await head(key);
            if (entry === "folder") subfolders.push(key);
            else if (entry !== undefined) files.push(entry);
          }
        };
        await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
        for (const key of subfolders) folders.add(key);
        return { files, folders: subfolders };
      },
      // Each folder already HEADs its files `concurrency` at a time: walk fewer folders at once.
      { what, concurrency: Math.max(1, Math.ceil(concurrency / 4)), maxFolders, maxDepth },
    );
  }

  async function* listPages(): AsyncGenerator<RawEntry[]> {
    known = new Map();
    folders = new Set();
    format ??= await detect();
    if (format === "manifest") yield* listManifest();
    else if (format === "webdav") yield* listWebdav();
    else if (format === "autoindex-json") yield* listAutoindexJson();
    else yield* listHtml();
  }

  // --- Reading -----------------------------------------------------------------------------------

  function verify(key: string, url: URL, bytes: Uint8Array): void {
    const entry = known.get(key);
    if (entry === undefined) return;
    if (bytes.length !== entry.size) {
      throw new MountError(
        "EIO",
        `GET ${describe(url)}: the server sent ${bytes.length} bytes, but the listing says ${entry.size}; the file changed since it was listed or the server is wrong (refresh the mount to list again)`,
      );
    }
    if (entry.sha256 !== undefined) {
      const digest = createHash("sha256").update(bytes).digest("hex");
      if (digest !== entry.sha256) {
        throw new MountError(
          "EIO",
          `GET ${describe(url)}: sha256 ${digest} does not match the manifest's ${entry.sha256}; the bytes were refused`,
        );
      }
    }
  }

  /**
   * A GET of a large body: on plain http, first through `socketRead` (the kernel writes the body
   * straight into its buffer: a third of the CPU of the pool path here); anything that path does
   * not handle (https, a redirect, an error status, chunked framing) goes through the pool.
   */
  async function getLarge(
    url: URL,
    init: { headers: Record<string, string>; maxBytes: number; place: NonNullable<ReadIntoOptions["place"]> },
  ): Promise<HttpResponse & { readonly url: URL }> {
    if (url.protocol === "http:" && url.origin === base.origin) {
      try {
        const response = await socketRead(url, headersFor(url, init.headers), {
          timeoutMs,
          maxBytes: init.maxBytes,
          place: init.place,
        });
        return { ...response, url };
      } catch (error) {
        if (!(error instanceof SocketReadUnsupported)) throw error;
      }
    }
    return send("GET", url, init);
  }

  /**
   * A large file of known size in `readStreams` ranges, written straight into one buffer. The
   * first range's headers tell whether the server honours Range (206) and which version it is;
   * the other ranges start then, pinned to that version with If-Match (a strong ETag) or
   * If-Unmodified-Since. A server that ignores Range sends the whole file to the first request,
   * which lands in the same buffer.
   */
  async function fetchRanged(url: URL, size: number): Promise<Uint8Array> {
    const out = new Uint8Array(size);
    const part = Math.ceil(size / readStreams);
    let rest: Promise<unknown> | undefined;
    const range = async (start: number, pin: Record<string, string>): Promise<void> => {
      const end = Math.min(start + part, size) - 1;
      const response = await getLarge(url, {
        headers: { range: `bytes=${start}-${end}`, ...pin },
        maxBytes: end - start + 1,
        // Only a 206 for exactly this range lands in the buffer; anything else is refused below.
        place: (status, headers) => {
          const got = contentRange(headers);
          return status === 206 && got?.start === start && got.end === end && got.total === size
            ? { target: out, offset: start }
            : undefined;
        },
      });
      if (response.status === 412) {
        throw new MountError(
          "EIO",
          `GET ${describe(url)}: the file changed while it was read; read it again`,
          {
            transient: true,
          },
        );
      }
      if (response.status !== 206) {
        checkOk(response, "GET");
        throw new MountError(
          "EIO",
          `GET ${describe(url)}: a range request got HTTP ${response.status}, not 206`,
        );
      }
      if (response.body !== out || (response as { received?: number }).received !== end - start + 1) {
        throw new MountError(
          "EIO",
          `GET ${describe(url)}: range ${start}-${end} came back as ${header(response, "content-range") ?? "no Content-Range"} with ${(response as { received?: number }).received} bytes`,
          { transient: true },
        );
      }
    };
    const first = await getLarge(url, {
      headers: { range: `bytes=0-${part - 1}` },
      maxBytes: size,
      place: (status, headers) => {
        const get = (name: string): string | undefined => {
          const value = headers[name];
          return Array.isArray(value) ? value[0] : value;
        };
        if (status === 200) return { target: out, offset: 0 }; // Range ignored: the whole file comes.
        const got = contentRange(headers);
        // Anything but a 206 for exactly the first range is refused below, once the body is in.
        if (
          status !== 206 ||
          got?.start !== 0 ||
          got.end !== Math.min(part, size) - 1 ||
          got.total !== size
        ) {
          return undefined;
        }
        const etag = get("etag");
        const modified = get("last-modified");
        const pin: Record<string, string> =
          etag !== undefined && !etag.startsWith("W/")
            ? { "if-match": etag }
            : modified !== undefined
              ? { "if-unmodified-since": modified }
              : {};
        const starts: number[] = [];
        for (let at = part; at < size; at += part) starts.push(at);
        rest = Promise.all(starts.map((start) => range(start, pin)));
        // Nobody awaits `rest` if the first range fails: keep its rejection handled.
        rest.catch(() => {});
        return { target: out, offset: 0 };
      },
    });
    if (first.status === 200) {
      if ((first as { received?: number }).received !== size) {
        throw new MountError(
          "EIO",
          `GET ${describe(url)}: the server sent ${(first as { received?: number }).received} bytes, but the listing says ${size}; refresh the mount`,
        );
      }
      return out;
    }
    checkOk(first, "GET");
    if (first.status !== 206 || rest === undefined || first.body !== out) {
      const total = /\/(\d+)\s*$/.exec(header(first, "content-range") ?? "")?.[1];
      throw new MountError(
        "EIO",
        `GET ${describe(url)}: Content-Range says ${total ?? "nothing"} bytes, the listing says ${size}; refresh the mount`,
      );
    }
    if ((first as { received?: number }).received !== Math.min(part, size)) {
      throw new MountError(
        "EIO",
        `GET ${describe(url)}: the first range came back with ${(first as { received?: number }).received} bytes`,
        { transient: true },
      );
    }
    await rest;
    return out;
  }

  async function fetch(key: string): Promise<Uint8Array> {
    if (folders.has(key)) throw new MountError("EISDIR", `${key} is a folder, not a file`);
    const url = urlOfKey(base, key);
    const entry = known.get(key);
    let bytes: Uint8Array | undefined;
    if (entry !== undefined && entry.size >= rangeThreshold && entry.size > 0) {
      bytes = await fetchRanged(url, entry.size);
    }
    if (bytes === undefined) {
      // A listed size bounds the body: a server that keeps sending is cut off, not buffered.
      const response = await send("GET", url, entry === undefined ? {} : { maxBytes: entry.size });
      if (response.status === 405) {
        // WebDAV servers (golang.org/x/net/webdav, rclone) refuse GET on a collection.
        throw new MountError(
          "EISDIR",
          `GET ${describe(url)}: the server refuses to read it (405); it is a folder`,
        );
      }
      checkOk(response, "GET");
      bytes = response.body;
    }
    verify(key, url, bytes);
    return bytes;
  }

  // --- Writing (WebDAV) --------------------------------------------------------------------------

  /** MKCOLs in flight, by folder key: parallel puts into one new folder create it once. */
  const creating = new Map<string, Promise<void>>();

  async function mkcol(folder: string): Promise<void> {
    const url = urlOfKey(base, folder, true);
    const response = await send("MKCOL", url);
    // 201 created; 405 already there (RFC 4918); some servers answer 301 for an existing one.
    if (response.status === 201 || response.status === 405 || response.status === 301) return;
    checkOk(response, "MKCOL");
  }

  async function mkcolParents(key: string): Promise<void> {
    const segments = key.split("/").slice(0, -1);
    for (let i = 1; i <= segments.length; i++) {
      const folder = segments.slice(0, i).join("/");
      let pending = creating.get(folder);
      if (pending === undefined) {
        pending = mkcol(folder).finally(() => creating.delete(folder));
        creating.set(folder, pending);
      }
      await pending;
    }
  }

  async function requireWebdav(op: string): Promise<void> {
    format ??= await detect();
    if (format !== "webdav") {
      throw new MountError(
        "ENOTSUP",
        `${op} ${what}: writing needs a WebDAV server (PUT, MKCOL, DELETE); this one is listed as ${format}; nothing was written`,
      );
    }
  }

  async function put(key: string, bytes: Uint8Array, putOptions: PutOptions): Promise<PutResult> {
    await requireWebdav("put");
    const url = urlOfKey(base, key);
    const headers: Record<string, string> = {
      "content-type": "application/octet-stream",
      "content-length": String(bytes.length),
    };
    if (putOptions.ifMatch !== undefined) headers["if-match"] = putOptions.ifMatch;
    if (putOptions.ifNoneMatch !== undefined) headers["if-none-match"] = "*";
    let response = await send("PUT", url, { headers, body: bytes, maxBytes: 1024 * 1024 });
    if (response.status === 404 || response.status === 409) {
      // The parent collection is missing: create it, top-down, and try once more.
      await mkcolParents(key);
      response = await send("PUT", url, { headers, body: bytes, maxBytes: 1024 * 1024 });
    }
    if (response.status === 412) {
      throw putOptions.ifNoneMatch !== undefined
        ? new MountError(
            "EEXIST",
            `PUT ${describe(url)}: a file already exists (If-None-Match: *); nothing was written`,
          )
        : new MountError(
            "ESTALE",
            `PUT ${describe(url)}: the stored version is not ${putOptions.ifMatch} (If-Match); nothing was written`,
          );
    }
    if (response.status === 405) {
      throw new MountError(
        "EPERM",
        `PUT ${describe(url)}: the server does not allow PUT here (405): a folder, or a read-only share`,
      );
    }
    checkOk(response, "PUT");
    const etag = header(response, "etag");
    known.set(key, { size: bytes.length, etag });
    return etag === undefined ? {} : { etag };
  }

  async function remove(key: string): Promise<void> {
    await requireWebdav("delete");
    const url = urlOfKey(base, key);
    // A WebDAV DELETE of a collection removes everything below it: make sure this is a file first.
    let probe: HttpResponse & { url: URL };
    try {
      probe = await send("PROPFIND", url, {
        headers: { depth: "0", "content-type": "application/xml; charset=utf-8" },
        body: PROPFIND_BODY,
        maxBytes: 1024 * 1024,
      });
    } catch (error) {
      // Redirected to `key/`: a collection, not a file at this path; nothing to delete.
      if (MountError.hasCode(error, "EISDIR")) return;
      throw error;
    }
    if (probe.status === 404 || probe.status === 410) {
      known.delete(key);
      return;
    }
    if (probe.status !== 207) throw statusError(probe, "PROPFIND");
    let resources: ReturnType<typeof parsePropfind>["resources"];
    try {
      resources = parsePropfind(text(probe.body), probe.url, base).resources;
    } catch (error) {
      throw formatError(url, error);
    }
    const self = resources.find((r) => r.key === key);
    if (self === undefined || self.collection) return; // A folder is not a file at this path: nothing to delete.
    const response = await send("DELETE", url);
    if (response.status !== 404 && response.status !== 410) checkOk(response, "DELETE");
    known.delete(key);
  }

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
    put,
    delete: remove,
    refresh: true,
    extra: {
      get listingFormat(): Exclude<HttpListing, "auto"> | undefined {
        return format;
      },
    },
  });
  return mount as HttpTreeMount;
}
