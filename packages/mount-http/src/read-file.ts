import { createHash } from "node:crypto";
import { MountError } from "@ws/core";
import { urlOfKey } from "./child-link.js";
import { contentRange, describe, header } from "./http-session.js";
import type { TreeContext } from "./tree-context.js";

/** A placement with no room: the first byte of a body that must not be kept fails its request. */
const NO_ROOM = new Uint8Array(0);

/**
 * The reading side of one mount: a whole file into one fresh buffer, checked against the listed
 * size and sha256; large files in parallel ranges checked to be of one version.
 */
export function createFileReader(ctx: TreeContext): (key: string) => Promise<Uint8Array> {
  const { base } = ctx;
  const { known, folders } = ctx.state;
  const { readStreams, rangeThreshold } = ctx.config;
  const { send, getLarge, checkOk } = ctx.session;

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
   * A large file of known size in `readStreams` ranges, all sent at once, each written straight
   * into its place in one buffer. Every 206 must be exactly its range of a file of the listed
   * size, and all must carry the same validators (ETag, Last-Modified): a file replaced during the
   * read is a transient `EIO`, never a mix of two versions. A server that ignores Range answers
   * the first request with the whole file, which lands in the same buffer; the other requests'
   * 200s are refused from their headers (larger than their range) and closed.
   *
   * Why not the first range alone, then the rest pinned with If-Match: under load, the wait for
   * that first answer was a scheduling round trip of its own before three quarters of the file
   * could start, and comparing validators afterwards detects the same replacement.
   */
  async function fetchRanged(url: URL, size: number): Promise<Uint8Array> {
    const out = new Uint8Array(size);
    const part = Math.ceil(size / readStreams);
    const starts: number[] = [];
    for (let at = 0; at < size; at += part) starts.push(at);
    const one = async (start: number): Promise<{ status: number; version: string }> => {
      const end = Math.min(start + part, size) - 1;
      const first = start === 0;
      const response = await getLarge(url, {
        headers: { range: `bytes=${start}-${end}` },
        // The first request may get the whole file (Range ignored); the others only their range.
        maxBytes: first ? size : end - start + 1,
        // Only a 206 for exactly this range lands in the buffer (a 200 only for the first);
        // anything else gets no room, so its first byte fails the request.
        place: (status, headers) => {
          if (status === 200) return { target: first ? out : NO_ROOM, offset: 0 };
          const got = contentRange(headers);
          return status === 206 && got?.start === start && got.end === end && got.total === size
            ? { target: out, offset: start }
            : { target: NO_ROOM, offset: 0 };
        },
      });
      checkOk(response, "GET");
      const received = (response as { received?: number }).received;
      if (response.status === 200 && first) {
        if (received !== size) {
          throw new MountError(
            "EIO",
            `GET ${describe(url)}: the server sent ${received} bytes, but the listing says ${size}; refresh the mount`,
          );
        }
        return { status: 200, version: "" };
      }
      const got = contentRange(response.headers);
      if (response.status !== 206 || got === undefined || got.total !== size) {
        throw new MountError(
          "EIO",
          got !== undefined && got.total !== size
            ? `GET ${describe(url)}: Content-Range says ${got.total} bytes, the listing says ${size}; refresh the mount`
            : `GET ${describe(url)}: a range request got HTTP ${response.status}, not 206`,
        );
      }
      if (got.start !== start || got.end !== end || received !== end - start + 1) {
        throw new MountError(
          "EIO",
          `GET ${describe(url)}: range ${start}-${end} came back as ${header(response, "content-range") ?? "no Content-Range"} with ${received} bytes`,
          { transient: true },
        );
      }
      return {
        status: 206,
        version: `${header(response, "etag") ?? ""}\n${header(response, "last-modified") ?? ""}`,
      };
    };
    // Every request settles before the buffer is returned (or dropped): none may still be
    // writing into it.
    const results = await Promise.allSettled(starts.map(one));
    const head = results[0];
    if (head?.status === "fulfilled" && head.value.status === 200) return out; // Range ignored
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    const versions = new Set(
      results.map((r) => (r as PromiseFulfilledResult<{ version: string }>).value.version),
    );
    if (versions.size > 1) {
      throw new MountError(
        "EIO",
        `GET ${describe(url)}: the file changed while it was read (its ranges carry different ETag or Last-Modified); read it again`,
        { transient: true },
      );
    }
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

  return fetch;
}
