import { MountError } from "@ws/core";
import { urlOfKey } from "./child-link.js";
import { contentRange, describe, type HttpAnswer, header } from "./http-session.js";
import type { BodyPlacement, ResponseHeaders } from "./read-into.js";
import type { TreeContext } from "./tree-context.js";

/**
 * Ranges at least this long go through the large-read fast path (`getLarge`: a connection of their
 * own, the body read by the kernel into its buffer); shorter ones through the session's keep-alive
 * `node:http` agent. Neither touches undici (see `nodeDispatcher`). 256 KiB: a stream's first window.
 */
const FAST_RANGE = 256 * 1024;

function checkOffset(name: string, value: number): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new MountError(
      "EINVAL",
      `fetchRange: ${name} must be a non-negative integer byte offset, got ${String(value)}`,
      { syscall: "read" },
    );
  }
}

/**
 * The ranged reads of one mount: bytes [start, end) of a file with one `Range` request.
 *
 * Nothing the server sends is kept before it is checked. A 206 must carry exactly the range asked
 * for, clipped at the file's size, and (when the listing knows the file) the listed size as its
 * total; a 416 means the range starts at or past the end: an empty array. A server that ignores
 * `Range` (a 200 with the whole file, as python's http.server) is read only up to `end`: the bytes
 * before `start` are dropped as they arrive and the connection is closed at `end`, so memory stays
 * bounded by the range and the bytes are the right ones (the traffic is `end` bytes, not the range).
 */
export function createRangeReader(
  ctx: TreeContext,
): (
  key: string,
  start: number,
  end: number,
  context?: { readonly into?: Uint8Array | undefined },
) => Promise<Uint8Array> {
  const { base } = ctx;
  const { known, folders } = ctx.state;
  const { send, getLarge, checkOk } = ctx.session;

  function changed(url: URL, total: number, listed: number): MountError {
    return new MountError(
      "EIO",
      `GET ${describe(url)}: the server says the file has ${total} bytes, but the listing says ${listed}; the file changed since it was listed (refresh the mount)`,
    );
  }

  return async function fetchRange(
    key: string,
    start: number,
    end: number,
    context: { readonly into?: Uint8Array | undefined } = {},
  ): Promise<Uint8Array> {
    checkOffset("start", start);
    checkOffset("end", end);
    if (folders.has(key)) throw new MountError("EISDIR", `${key} is a folder, not a file`);
    // Nothing asked for: no request (a missing file is not noticed, as a read of 0 bytes).
    if (end <= start) return new Uint8Array(0);
    const url = urlOfKey(base, key);
    const listed = known.get(key)?.size;
    const length = Math.min(end, listed ?? end) - start;
    const range = `bytes=${start}-${end - 1}`;
    let refused: string | undefined;
    const place = (status: number, headers: ResponseHeaders): BodyPlacement | undefined => {
      if (status !== 206) return undefined; // a 200 (Range ignored) is cut to the window by readInto
      const got = contentRange(headers);
      if (got === undefined || got.start !== start || got.end !== Math.min(end, got.total) - 1) {
        const raw = headers["content-range"];
        refused = (Array.isArray(raw) ? raw[0] : raw) ?? "no Content-Range";
        // A zero-length target: any byte of this body fails the read before it is kept.
        return { target: new Uint8Array(0), offset: 0 };
      }
      const size = got.end - got.start + 1;
      // The caller's buffer (a reader's reused window), when it has room: no buffer made per range.
      const into = context.into;
      if (into !== undefined && into.length >= size) return { target: into.subarray(0, size), offset: 0 };
      // Not zero-filled: every byte is written before the body is returned (a short body is an
      // error below, and the buffer is dropped). Streams read many windows of a few MiB, and
      // clearing each first was a quarter of a stream's CPU (`npm run bench -- stream`).
      const fresh = Buffer.allocUnsafeSlow(size);
      return { target: new Uint8Array(fresh.buffer, fresh.byteOffset, fresh.length), offset: 0 };
    };
    const badRange = (): MountError =>
      new MountError(
        "EIO",
        `GET ${describe(url)}: asked for ${range}, the server answered a 206 with ${refused}; the bytes were refused`,
      );
    const init = {
      headers: { range },
      // A 206 bigger than what was asked is refused from its Content-Length; a 200 is cut by `window`.
      maxBytes: end - start,
      place,
      window: { start, end },
      via: "node" as const,
    };
    let response: HttpAnswer;
    try {
      response = length >= FAST_RANGE ? await getLarge(url, init) : await send("GET", url, init);
    } catch (error) {
      if (refused !== undefined) throw badRange();
      throw error;
    }
    if (refused !== undefined) throw badRange();
    if (response.status === 416) {
      // Range Not Satisfiable: the range starts at or past the end of the file.
      const total = /^\s*bytes\s+\*\/(\d+)\s*$/i.exec(header(response, "content-range") ?? "")?.[1];
      if (total !== undefined) {
        if (listed !== undefined && Number(total) !== listed) throw changed(url, Number(total), listed);
        if (start < Number(total)) {
          throw new MountError(
            "EIO",
            `GET ${describe(url)}: the server refused ${range} (416) although the file has ${total} bytes`,
          );
        }
      }
      return new Uint8Array(0);
    }
    if (response.status === 405) {
      throw new MountError(
        "EISDIR",
        `GET ${describe(url)}: the server refuses to read it (405); it is a folder`,
      );
    }
    checkOk(response, "GET");
    if (response.status === 206) {
      const got = contentRange(response.headers);
      if (got !== undefined && listed !== undefined && got.total !== listed) {
        throw changed(url, got.total, listed);
      }
      const received = (response as { received?: number }).received;
      if (received !== response.body.length) {
        throw new MountError(
          "EIO",
          `GET ${describe(url)}: ${range} came back with ${received} of ${response.body.length} bytes`,
          { transient: true },
        );
      }
      return response.body;
    }
    if (response.status === 200) {
      // Range ignored: the body is already cut to [start, end) (see `window`).
      const raw = header(response, "content-length");
      const total = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
      if (total !== undefined && listed !== undefined && total !== listed) throw changed(url, total, listed);
      return response.body;
    }
    throw new MountError(
      "EIO",
      `GET ${describe(url)}: a range request got HTTP ${response.status}, neither 206 nor 200`,
    );
  };
}
