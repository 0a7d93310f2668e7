import { connect, isIP } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { MountError } from "@ws/core";
import { classifyNetworkError } from "@ws/provider-kit";
import type { BodyPlacement, ReadIntoResult, ResponseHeaders } from "./read-into.js";

const SCRATCH = 64 * 1024;
const MAX_HEAD = 64 * 1024;

/**
 * Where every socket of this module reads a response's head, shared: a read lands in it and its
 * callback copies it out (into `head`) before returning, and reads of different sockets run one at
 * a time on the event loop, so no two uses overlap. One per call was 64 KiB of garbage per range:
 * 32 MiB per GiB streamed in 2 MiB windows, left for V8 to collect late.
 */
let sharedScratch: Buffer | undefined;

/** Why the fast path could not be used; the caller then reads through the pool instead. */
export class SocketReadUnsupported extends Error {
  override readonly name = "SocketReadUnsupported";
}

/**
 * One HTTP GET on its own connection whose body is written straight into its final buffer: the
 * socket reads into views of the target (Node's `onread` option), so each byte is copied once
 * (from the kernel on `http:`, from TLS's decryption on `https:`) instead of through the HTTP
 * parser's memory and a chunk on the way. For large reads only (a connection per call,
 * `Connection: close`), and only responses framed by Content-Length: anything else throws
 * `SocketReadUnsupported` before a byte of body is kept, and the caller reads through the pool.
 * `https:` verifies the server as the pool does (the default CAs, the host name as SNI and for the
 * certificate check); `tls` adds options (tests pass their own `ca`).
 */
export function socketRead(
  url: URL,
  headers: Readonly<Record<string, string>>,
  options: {
    readonly timeoutMs: number;
    readonly maxBytes: number;
    readonly place: (status: number, headers: ResponseHeaders) => BodyPlacement | undefined;
    readonly tls?: ConnectionOptions | undefined;
  },
): Promise<ReadIntoResult> {
  const secure = url.protocol === "https:";
  if (!secure && url.protocol !== "http:") return Promise.reject(new SocketReadUnsupported("not http(s)"));
  const what = `GET ${url.origin}${url.pathname}`;
  return new Promise<ReadIntoResult>((resolve, reject) => {
    sharedScratch ??= Buffer.allocUnsafeSlow(SCRATCH);
    const scratch = sharedScratch;
    let head = Buffer.alloc(0);
    let status = 0;
    const responseHeaders: Record<string, string | string[]> = {};
    let target: Uint8Array | undefined;
    let offset = 0;
    let expected = -1;
    let received = 0;
    let settled = false;
    // The buffer the next read goes into: the scratch until the headers are parsed, then the
    // rest of the body's place in the target.
    let next: Uint8Array = scratch;
    const finish = (error: unknown, result?: ReadIntoResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (result) resolve(result);
      else reject(error);
    };
    const timer = setTimeout(() => {
      finish(
        new MountError("ETIMEDOUT", `${what}: nothing arrived for ${options.timeoutMs} ms`, {
          transient: true,
        }),
      );
    }, options.timeoutMs);
    const done = (): void => {
      finish(undefined, { status, headers: responseHeaders, body: target ?? new Uint8Array(0), received });
    };
    const body = (count: number): void => {
      received += count;
      if (received >= expected) done();
      else next = (target as Uint8Array).subarray(offset + received, offset + expected);
    };
    // `bytes`: the response so far, from its first byte (a view of the scratch in the common case
    // of a head that arrived in one read); the body bytes after the head are copied out of it.
    const parseHead = (bytes: Buffer, end: number): void => {
      const text = bytes.subarray(0, end).toString("latin1");
      const rest = bytes.subarray(end + 4);
      const lines = text.split("\r\n");
      const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
      if (!statusLine) throw new SocketReadUnsupported("not an HTTP/1.x response");
      status = Number(statusLine[1]);
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        const prior = responseHeaders[name];
        responseHeaders[name] =
          prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
      }
      const length = responseHeaders["content-length"];
      if (
        responseHeaders["transfer-encoding"] !== undefined ||
        typeof length !== "string" ||
        !/^\d+$/.test(length)
      ) {
        throw new SocketReadUnsupported("a response not framed by one Content-Length");
      }
      expected = Number(length);
      const placement = status >= 200 && status < 300 ? options.place(status, responseHeaders) : undefined;
      if (placement === undefined) throw new SocketReadUnsupported(`HTTP ${status} for the fast path`);
      if (expected > options.maxBytes || placement.offset + expected > placement.target.length) {
        throw new MountError(
          "EIO",
          `${what}: the body is larger than maxBytes (${options.maxBytes}); got at least ${expected} bytes`,
        );
      }
      target = placement.target;
      offset = placement.offset;
      const early = Math.min(rest.length, expected);
      target.set(rest.subarray(0, early), offset);
      received = 0;
      if (expected === 0) done();
      else body(early);
    };
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const onread = {
      buffer: () => next,
      callback: (count: number, buffer: Uint8Array): boolean => {
        if (settled) return false;
        timer.refresh();
        try {
          if (target !== undefined) body(count);
          else {
            // Only a head split across reads is copied (into `head`); the first read, which
            // also holds the start of the body, is parsed where it landed.
            const piece = Buffer.from(buffer.buffer, buffer.byteOffset, count);
            const bytes = head.length === 0 ? piece : Buffer.concat([head, piece]);
            const end = bytes.indexOf("\r\n\r\n");
            if (end >= 0) parseHead(bytes, end);
            else if (bytes.length > MAX_HEAD) throw new SocketReadUnsupported("response headers over 64 KiB");
            else head = Buffer.from(bytes);
          }
        } catch (error) {
          finish(error);
          return false;
        }
        return true;
      },
    };
    const socket = secure
      ? tlsConnect({
          ...options.tls,
          host,
          port: Number(url.port || 443),
          // SNI takes a host name, never an address.
          ...(isIP(host) === 0 ? { servername: host } : {}),
          // Node's TLSSocket takes `onread` as net.Socket does (its types omit it).
          onread,
        } as ConnectionOptions)
      : connect({ host, port: Number(url.port || 80), onread });
    socket.setNoDelay(true);
    socket.on(secure ? "secureConnect" : "connect", () => {
      const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, "Connection: close"];
      for (const [name, value] of Object.entries(headers)) {
        if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
          finish(new MountError("EINVAL", `${what}: a header contains a line break`));
          return;
        }
        if (name !== "host" && name !== "connection") lines.push(`${name}: ${value}`);
      }
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    });
    socket.on("error", (error) => {
      const c = classifyNetworkError(error);
      finish(
        c
          ? new MountError(c.code, `${what}: ${c.reason}`, { cause: error, transient: c.transient })
          : new MountError("EIO", `${what} failed: ${error.message}`, { cause: error }),
      );
    });
    socket.on("end", () => {
      if (target !== undefined && received >= expected) return done();
      finish(
        new MountError(
          "EIO",
          `${what}: the body ended after ${received} of ${expected < 0 ? "?" : expected} bytes`,
          {
            syscall: "read",
            transient: true,
          },
        ),
      );
    });
  });
}
