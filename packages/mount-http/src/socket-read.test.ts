import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { MountError } from "@ws/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SocketReadUnsupported, socketRead } from "./socket-read.js";

// socketRead over https: a real TLS server (node:https with a certificate made here by openssl)
// answering Range requests, the body read by TLS straight into the caller's buffer.
const run = promisify(execFile);
const MiB = 1024 * 1024;
const BODY = new Uint8Array(3 * MiB + 11).map((_, i) => (i * 31 + (i >>> 12)) & 0xff);

let dir: string;
let server: Server;
let base: URL;
let ca: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ws-socket-read-"));
  try {
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost",
    ]);
  } catch (error) {
    throw new Error(
      `openssl is needed to make the test's certificate (apt-get install -y openssl): ${error}`,
    );
  }
  ca = await readFile(join(dir, "cert.pem"));
  server = createServer({ key: await readFile(join(dir, "key.pem")), cert: ca }, (req, res) => {
    if (req.url === "/chunked") {
      res.writeHead(200, { "transfer-encoding": "chunked" });
      res.end("not framed by a length");
      return;
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
    if (!range) {
      res.writeHead(200, { "content-length": String(BODY.length) });
      res.end(BODY);
      return;
    }
    const start = Number(range[1]);
    const end = Math.min(Number(range[2]), BODY.length - 1);
    res.writeHead(206, {
      "content-length": String(end - start + 1),
      "content-range": `bytes ${start}-${end}/${BODY.length}`,
    });
    res.end(BODY.subarray(start, end + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = new URL(`https://localhost:${(server.address() as AddressInfo).port}/`);
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe("socketRead over https", () => {
  it("a 206 is decrypted straight into the caller's buffer, checked against the server's certificate", async () => {
    for (const [start, end] of [
      [0, 2 * MiB],
      [MiB + 5, BODY.length],
      [17, 300_017],
    ] as const) {
      const into = new Uint8Array(BODY.length);
      const result = await socketRead(
        new URL("big.bin", base),
        { range: `bytes=${start}-${end - 1}` },
        {
          timeoutMs: 10_000,
          maxBytes: end - start,
          place: (status) => (status === 206 ? { target: into, offset: 0 } : undefined),
          tls: { ca },
        },
      );
      expect(result.status).toBe(206);
      expect(result.received).toBe(end - start);
      expect(result.body.buffer).toBe(into.buffer);
      expect(Buffer.from(into.subarray(0, end - start)).equals(Buffer.from(BODY.subarray(start, end)))).toBe(
        true,
      );
    }
  });

  it("an untrusted certificate is an error, never a fallback; chunked framing is left to the pool", async () => {
    const options = {
      timeoutMs: 10_000,
      maxBytes: MiB,
      place: () => ({ target: new Uint8Array(MiB), offset: 0 }),
    };
    const untrusted = await socketRead(new URL("big.bin", base), { range: "bytes=0-9" }, options).catch(
      (error: unknown) => error,
    );
    expect(MountError.isInstance(untrusted)).toBe(true);
    expect(untrusted).not.toBeInstanceOf(SocketReadUnsupported);
    await expect(
      socketRead(new URL("chunked", base), {}, { ...options, tls: { ca } }),
    ).rejects.toBeInstanceOf(SocketReadUnsupported);
  });
});
