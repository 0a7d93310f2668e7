import { isIP, connect as netConnect, type Socket } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { MountError } from "@ws/core";

/**
 * Where a response body goes when the socket reads it in place: `space()` is the room for the
 * next read (the kernel writes there), `received(n)` says the first `n` bytes of the last room
 * are body bytes (the HTTP framing already taken out), `end()` says the body is complete.
 */
export interface BodyReceiver {
  space(): Uint8Array;
  received(count: number): void;
  end(): void;
  /** True once the receiver has all it wants: the rest of the body is dropped. */
  readonly done: boolean;
}

/** TLS settings of a git server: its CA (a private one), or none checked (tests only). */
export interface GitTlsOptions {
  readonly ca?: string | Buffer | readonly (string | Buffer)[] | undefined;
  readonly rejectUnauthorized?: boolean | undefined;
}

export interface SocketExchange {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | undefined;
  readonly tls: GitTlsOptions | undefined;
  readonly idleTimeoutMs: number;
  /** For messages: the repository URL without credentials. */
  readonly displayUrl: string;
  /** Called with the body bytes of every read (framing excluded); throws to abort (a byte cap). */
  readonly counted: (count: number) => void;
  /** The socket, so that the caller can destroy it when its operation ends. */
  readonly opened: (socket: { destroy(): void }) => void;
}

const MAX_HEAD = 64 * 1024;

// States of the body's HTTP/1.1 framing.
const LENGTH = 0; // Content-Length: `left` bytes of body
const SIZE = 1; // chunked: the hex size of the next chunk
const EXTENSION = 2; // chunked: `;name=value` after the size, up to LF
const DATA = 3; // chunked: `left` bytes of the chunk
const DATA_END = 4; // chunked: the CRLF after a chunk's data
const TRAILER = 5; // chunked: start of a trailer line (an empty one ends the body)
const TRAILER_LINE = 6; // chunked: inside a trailer line
const DONE = 7;

/**
 * One HTTP/1.1 request (http: or https:) on its own connection (`Connection: close`) whose
 * response body the socket reads straight into the receiver's room (Node's `onread` option, over
 * TCP or TLS): no buffer is allocated per read, and the HTTP framing (Content-Length or chunked)
 * is taken out in place, by moving the body bytes down over it. Resolves `true` once the body
 * ended; `false`, before any body byte reached the receiver, for an answer it leaves to Node's
 * HTTP client (any status but 200: redirects, 401, errors; an encoded body; a body framed by the
 * connection's close). Rejects with a MountError for a broken connection or a body cut short.
 */
export function socketExchange(exchange: SocketExchange, receiver: BodyReceiver): Promise<boolean> {
  const { url, displayUrl, idleTimeoutMs } = exchange;
  return new Promise<boolean>((resolve, reject) => {
    let head: Buffer | undefined = Buffer.alloc(0);
    let state = LENGTH;
    let left = 0;
    let sizeDigits = 0;
    let settled = false;
    let room: Uint8Array = receiver.space();
    let parked: Buffer | undefined;
    const finish = (error: unknown, handled?: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Not from inside the read callback: destroyed there, the socket would keep its last room
      // (the next one is only taken from the callback's return when the socket is not destroyed).
      // The callback returns false meanwhile, which stops the reads.
      setImmediate(() => socket.destroy());
      if (error === undefined) resolve(handled === true);
      else reject(error);
    };
    const broken = (reason: string): MountError =>
      new MountError("EIO", `the connection to the git server at ${displayUrl} failed (${reason})`, {
        path: "",
        transient: true,
      });
    const timer = setTimeout(() => {
      finish(
        new MountError("ETIMEDOUT", `git server at ${displayUrl} sent nothing for ${idleTimeoutMs} ms`, {
          transient: true,
        }),
      );
    }, idleTimeoutMs);

    /** Parses the head; `false` leaves the answer to the caller's other path. */
    const parseHead = (text: string): boolean => {
      const lines = text.split("\r\n");
      const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? "");
      if (status?.[1] !== "200") return false;
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        if (colon <= 0) return false;
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        // Two values of a framing header: ambiguous, left to Node's parser (which refuses them).
        if (headers.has(name) && (name === "content-length" || name === "transfer-encoding")) return false;
        headers.set(name, value);
      }
      const encoding = headers.get("content-encoding");
      if (encoding !== undefined && encoding.toLowerCase() !== "identity") return false;
      const transfer = headers.get("transfer-encoding");
      const length = headers.get("content-length");
      if (transfer !== undefined) {
        if (transfer.toLowerCase() !== "chunked") return false;
        state = SIZE;
        left = 0;
        sizeDigits = 0;
        return true;
      }
      if (length === undefined || !/^\d{1,15}$/.test(length)) return false;
      state = LENGTH;
      left = Number(length);
      return true;
    };

    /** Takes the framing out of `room[from..end)`: the body bytes end up at `room[0..)`; returns their count. */
    const unframe = (from: number, end: number): number => {
      let w = 0;
      let i = from;
      while (i < end && state !== DONE) {
        if (state === LENGTH || state === DATA) {
          const take = Math.min(left, end - i);
          if (w !== i) room.copyWithin(w, i, i + take);
          w += take;
          i += take;
          left -= take;
          if (left === 0) state = state === LENGTH ? DONE : DATA_END;
          continue;
        }
        const c = room[i++] as number;
        if (state === SIZE) {
          const digit = hexDigit(c);
          if (digit >= 0 && sizeDigits < 12) {
            left = left * 16 + digit;
            sizeDigits++;
          } else if (sizeDigits > 0 && (c === 0x3b || c === 0x20 || c === 0x09)) state = EXTENSION;
          else if (sizeDigits > 0 && c === 0x0d) state = EXTENSION;
          else throw broken("a malformed chunk size");
        } else if (state === EXTENSION) {
          if (c === 0x0a) {
            sizeDigits = 0;
            state = left === 0 ? TRAILER : DATA;
          }
        } else if (state === DATA_END) {
          if (c === 0x0a) {
            state = SIZE;
            left = 0;
          } else if (c !== 0x0d) throw broken("a chunk longer than its size");
        } else if (state === TRAILER) {
          if (c === 0x0a) state = DONE;
          else if (c !== 0x0d) state = TRAILER_LINE;
        } else if (state === TRAILER_LINE && c === 0x0a) state = TRAILER;
      }
      // A chunk size ending the read right after its LF with size 0 and no trailer yet: wait.
      if (state === LENGTH && left === 0) state = DONE;
      return w;
    };

    const onRead = (count: number): void => {
      let from = 0;
      if (head !== undefined) {
        const before = head.length;
        head = Buffer.concat([head, room.subarray(0, count)]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
          if (head.length > MAX_HEAD) finish(undefined, false);
          return;
        }
        const text = head.toString("latin1", 0, end);
        head = undefined;
        if (!parseHead(text)) {
          finish(undefined, false);
          return;
        }
        from = end + 4 - before;
      }
      const body = unframe(from, count);
      if (body > 0) {
        exchange.counted(body);
        if (!receiver.done) receiver.received(body);
      }
      if (state === DONE || receiver.done) {
        // The receiver has what it wanted: the rest (if any) is not read.
        if (state === DONE) receiver.end();
        finish(undefined, true);
      }
    };

    const host = url.hostname.replace(/^\[|\]$/g, "");
    const onread = {
      buffer: (): Uint8Array => {
        // Once settled, the reads left (TLS may still hold decrypted bytes) go to a buffer of
        // this exchange's own: the receiver's memory may be resized or dropped from now on, and
        // a read into a room that went out of bounds (length 0) spun forever.
        if (settled) {
          parked ??= Buffer.allocUnsafe(16 * 1024);
          return parked;
        }
        room = head === undefined ? receiver.space() : room;
        return room;
      },
      callback: (count: number): boolean => {
        if (settled) return false;
        timer.refresh();
        try {
          onRead(count);
        } catch (error) {
          finish(error);
          return false;
        }
        return !settled;
      },
    };
    let socket: Socket;
    if (url.protocol === "https:") {
      socket = tlsConnect({
        host,
        port: Number(url.port || 443),
        ...(isIP(host) ? {} : { servername: host }),
        ALPNProtocols: ["http/1.1"],
        ...(exchange.tls?.ca === undefined
          ? {}
          : { ca: exchange.tls.ca as string | Buffer | (string | Buffer)[] }),
        ...(exchange.tls?.rejectUnauthorized === undefined
          ? {}
          : { rejectUnauthorized: exchange.tls.rejectUnauthorized }),
        onread,
      } as ConnectionOptions);
    } else {
      socket = netConnect({ host, port: Number(url.port || 80), onread });
    }
    exchange.opened(socket);
    socket.setNoDelay(true);
    socket.once(url.protocol === "https:" ? "secureConnect" : "connect", () => {
      const lines = [
        `${exchange.method} ${url.pathname}${url.search} HTTP/1.1`,
        `Host: ${url.host}`,
        "Connection: close",
      ];
      if (exchange.body) lines.push(`Content-Length: ${exchange.body.length}`);
      for (const [name, value] of Object.entries(exchange.headers)) {
        const lower = name.toLowerCase();
        if (lower === "host" || lower === "connection" || lower === "content-length") continue;
        if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
          finish(new MountError("EINVAL", `a header for ${displayUrl} contains a line break`, { path: "" }));
          return;
        }
        lines.push(`${name}: ${value}`);
      }
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (exchange.body) socket.write(exchange.body);
    });
    socket.on("error", (error) => finish(error));
    socket.on("end", () => {
      if (state === DONE) return;
      finish(
        broken(head === undefined ? "the response ended early" : "the connection closed before a response"),
      );
    });
    socket.on("close", () => {
      if (!settled) finish(broken("the connection closed"));
    });
  });
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
