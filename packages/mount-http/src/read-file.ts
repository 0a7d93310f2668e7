import { createHash } from "node:crypto";
import { MountError } from "@ws/core";
import { urlOfKey } from "./child-link.js";
import { contentRange, describe, header } from "./http-session.js";
import type { TreeContext } from "./tree-context.js";

/**
 * The reading side of one mount: a whole file into one fresh buffer, checked against the listed
 * size and sha256; large files in parallel ranges pinned to one version.
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

  return fetch;
}
