import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type BodyReceiver, socketExchange } from "./socket-exchange.js";

/**
 * A raw TCP server that answers every request with `answer` written in the given pieces, so the
 * framing can be cut anywhere (a chunk size split across reads, a CRLF on its own...).
 */
async function rawServer(pieces: readonly Uint8Array[], options: { close?: boolean } = {}): Promise<Server> {
  const server = createServer((socket: Socket) => {
    socket.once("data", async () => {
      for (const piece of pieces) {
        socket.write(piece);
        await new Promise((r) => setTimeout(r, 2));
      }
      if (options.close !== false) socket.end();
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return server;
}
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A receiver over one ArrayBuffer: every room is a view of it; it records which buffers the socket filled. */
function receiver(capacity = 1 << 20): BodyReceiver & { body(): Buffer; buffers: Set<ArrayBufferLike> } {
  const memory = new Uint8Array(capacity);
  let length = 0;
  let room = memory;
  const buffers = new Set<ArrayBufferLike>();
  let ended = false;
  return {
    buffers,
    space() {
      room = memory.subarray(length, Math.min(capacity, length + 4096));
      return room;
    },
    received(count: number) {
      buffers.add(room.buffer);
      // The body bytes are at the start of the room: they stay where the socket put them.
      length += count;
    },
    end() {
      ended = true;
    },
    get done() {
      return false;
    },
    body() {
      expect(ended).toBe(true);
      return Buffer.from(memory.subarray(0, length));
    },
  };
}

const payload = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 7919) & 0xff));
const exchange = (port: number) => ({
  url: new URL(`http://127.0.0.1:${port}/repo.git/git-upload-pack`),
  method: "POST",
  headers: { authorization: "Basic c2VjcmV0" },
  body: new TextEncoder().encode("0000"),
  tls: undefined,
  idleTimeoutMs: 5_000,
  displayUrl: `http://127.0.0.1:${port}/repo.git`,
  counted: () => {},
  opened: () => {},
});
const portOf = (s: Server): number => (s.address() as { port: number }).port;

/** `bytes` cut into pieces of 1, 2, 3... bytes then larger, so every state sees a split. */
function splinters(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let n = 1; at < bytes.length; n = n < 8 ? n + 1 : n * 3) {
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe("socketExchange: the body read by the socket into the receiver's own memory", () => {
  it("a Content-Length body, cut across reads anywhere, lands exactly in the receiver's buffer", async () => {
    const answer = Buffer.concat([
      Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: x/y\r\nContent-Length: ${payload.length}\r\n\r\n`),
      payload,
    ]);
    const server = await rawServer(splinters(answer));
    const r = receiver();
    expect(await socketExchange(exchange(portOf(server)), r)).toBe(true);
    expect(r.body().equals(payload)).toBe(true);
    expect(r.buffers.size).toBe(1);
  });

  it("a chunked body (extensions, a trailer, sizes split across reads) is de-chunked in place", async () => {
    const parts: Buffer[] = [Buffer.from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")];
    for (let at = 0, n = 1; at < payload.length; at += n, n = n * 2 + 1) {
      const piece = payload.subarray(at, at + n);
      parts.push(
        Buffer.from(`${piece.length.toString(16)}${n % 2 ? ";ext=1" : ""}\r\n`),
        piece,
        Buffer.from("\r\n"),
      );
    }
    parts.push(Buffer.from("0\r\nX-Trailer: yes\r\n\r\n"));
    const server = await rawServer(splinters(Buffer.concat(parts)));
    const r = receiver();
    expect(await socketExchange(exchange(portOf(server)), r)).toBe(true);
    expect(r.body().equals(payload)).toBe(true);
    expect(r.buffers.size).toBe(1);
  });

  it("any status but 200, or a body framed by the close, is left to node:http before a byte is received", async () => {
    for (const head of [
      "HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
      'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\nContent-Length: 3\r\n\r\nno\n',
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
      "HTTP/1.1 200 OK\r\n\r\nuntil the close",
      "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    ]) {
      const server = await rawServer([Buffer.from(head)]);
      const r = receiver();
      let got = 0;
      const spy = { ...r, received: (n: number) => (got += n) };
      expect(await socketExchange(exchange(portOf(server)), spy), head).toBe(false);
      expect(got, head).toBe(0);
    }
  });

  it("a body cut short (Content-Length or chunked) is EIO, without the credentials in the message", async () => {
    for (const answer of [
      `HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\n\r\n${payload.subarray(0, 5000).toString("latin1")}`,
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4000\r\n${payload.subarray(0, 5000).toString("latin1")}`,
    ]) {
      const server = await rawServer([Buffer.from(answer, "latin1")]);
      const error = await socketExchange(exchange(portOf(server)), receiver()).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "EIO" });
      expect(String((error as Error).message)).not.toContain("c2VjcmV0");
    }
  });

  it("a server that stops sending is ETIMEDOUT after the idle timeout, not a hang", async () => {
    const server = await rawServer([Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")], {
      close: false,
    });
    const started = Date.now();
    const error = await socketExchange({ ...exchange(portOf(server)), idleTimeoutMs: 300 }, receiver()).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "ETIMEDOUT" });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
