import { MountError, type PutOptions } from "@ws/core";
import type { PutResult } from "@ws/provider-kit";
import { urlOfKey } from "./child-link.js";
import { describe, type HttpAnswer, header, PROPFIND_BODY } from "./http-session.js";
import { parsePropfind } from "./parse-propfind.js";
import type { HttpListing, TreeContext } from "./tree-context.js";

/** The writing side of one mount, over WebDAV: PUT with MKCOL for missing parents, a careful DELETE. */
export interface WebdavWriter {
  put(key: string, bytes: Uint8Array, options: PutOptions): Promise<PutResult>;
  remove(key: string): Promise<void>;
}

export function createWebdavWriter(
  ctx: TreeContext,
  detect: () => Promise<Exclude<HttpListing, "auto">>,
): WebdavWriter {
  const { base, what, state } = ctx;
  const { known } = state;
  const { send, statusError, checkOk, formatError, text } = ctx.session;

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
    state.format ??= await detect();
    const format = state.format;
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
    let probe: HttpAnswer;
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

  return { put, remove };
}
