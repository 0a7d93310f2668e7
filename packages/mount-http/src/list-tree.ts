import { MountError } from "@ws/core";
import { paginate, type RawEntry } from "@ws/provider-kit";
import { urlOfKey } from "./child-link.js";
import { describe, type HttpAnswer, header, MAX_LISTING_BYTES, PROPFIND_BODY } from "./http-session.js";
import { parseAutoindexJson } from "./parse-autoindex-json.js";
import { parseHtmlIndex } from "./parse-html-index.js";
import { parseManifest } from "./parse-manifest.js";
import { parsePropfind } from "./parse-propfind.js";
import type { HttpListing, TreeContext } from "./tree-context.js";
import { type FolderResult, walkTree } from "./walk-tree.js";

/** The listing side of one mount: format detection and the four listing formats. */
export interface TreeLister {
  /** The listing format, asked of the server (WebDAV, then the index page's Content-Type). */
  detect(): Promise<Exclude<HttpListing, "auto">>;
  /** Every file, a page (a folder, a manifest page) at a time; resets what the mount knows. */
  listPages(): AsyncGenerator<RawEntry[]>;
}

export function createTreeLister(ctx: TreeContext): TreeLister {
  const { base, what, state } = ctx;
  const { known, folders } = state;
  const { concurrency, maxFolders, maxDepth, maxManifestPages, manifestPath } = ctx.config;
  const { statusError, checkOk, report, formatError, text } = ctx.session;
  // Listings through Node's HTTP client, not undici's pool (see `nodeDispatcher`): a process that
  // lists and then streams never pays for optimizing undici's WebAssembly parser.
  const send: typeof ctx.session.send = (method, url, init = {}) =>
    ctx.session.send(method, url, { ...init, via: "node" });

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

  async function propfind(url: URL, depth: "1" | "infinity"): Promise<HttpAnswer> {
    return send("PROPFIND", url, {
      headers: { depth, "content-type": "application/xml; charset=utf-8" },
      body: PROPFIND_BODY,
      maxBytes: MAX_LISTING_BYTES,
    });
  }

  function davEntries(response: HttpAnswer, folder: string): FolderResult<RawEntry> {
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
    let response: HttpAnswer;
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
    known.clear();
    folders.clear();
    state.format ??= await detect();
    if (state.format === "manifest") yield* listManifest();
    else if (state.format === "webdav") yield* listWebdav();
    else if (state.format === "autoindex-json") yield* listAutoindexJson();
    else yield* listHtml();
  }

  return { detect, listPages };
}
