import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MountError } from "@ws/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeHttpPools, httpPool, httpRequest } from "./http.js";

async function errorOf(promise: Promise<unknown>): Promise<MountError> {
  try {
    await promise;
  } catch (error) {
    if (MountError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a MountError");
}

describe("httpPool / httpRequest against a real local server", () => {
  let server: Server;
  let origin: string;
  let connections = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname === "/big") {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        // No content-length: the limit must be enforced while the body arrives.
        let sent = 0;
        const write = () => {
          while (sent < 1_000_000) {
            sent += 10_000;
            if (!res.write(new Uint8Array(10_000))) return res.once("drain", write);
          }
          res.end();
        };
        write();
        return;
      }
      if (url.pathname === "/biglen") {
        // Announces a large body and sends it slowly: the client must refuse it from the header.
        res.writeHead(200, { "content-length": "1000000" });
        res.write(new Uint8Array(1000));
        const timer = setInterval(() => res.write(new Uint8Array(1000)), 5);
        res.on("close", () => clearInterval(timer));
        return;
      }
      if (url.pathname === "/cut") {
        res.writeHead(200, { "content-length": "100" });
        res.write(new Uint8Array(10));
        setTimeout(() => res.destroy(), 10);
        return;
      }
      if (url.pathname === "/slow") {
        setTimeout(() => res.end("late"), 2000);
        return;
      }
      if (url.pathname === "/echo") {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          res.writeHead(201, { "x-method": req.method ?? "" });
          res.end(Buffer.concat(chunks));
        });
        return;
      }
      res.writeHead(url.pathname === "/missing" ? 404 : 200, { "retry-after": "7" });
      res.end(`hello ${url.pathname}${url.search}`);
    });
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await closeHttpPools();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("reuses one keep-alive pool per origin and reads bodies into exact buffers", async () => {
    expect(httpPool(origin)).toBe(httpPool(`${origin}/some/path`));
    const before = connections;
    for (let i = 0; i < 20; i++) {
      const response = await httpRequest(`${origin}/a?i=${i}`);
      expect(response.status).toBe(200);
      expect(new TextDecoder().decode(response.body)).toBe(`hello /a?i=${i}`);
      expect(response.body.byteOffset).toBe(0);
      expect(response.body.buffer.byteLength).toBe(response.body.byteLength);
    }
    // Sequential requests reuse sockets (undici may open a second while the first is being released).
    expect(connections - before).toBeLessThanOrEqual(2);
  });

  it("resolves any status for the caller to classify, and sends bodies", async () => {
    const missing = await httpRequest(`${origin}/missing`);
    expect(missing.status).toBe(404);
    expect(missing.headers["retry-after"]).toBe("7");
    const echo = await httpRequest(`${origin}/echo`, { method: "PUT", body: new Uint8Array([1, 2, 3]) });
    expect(echo.status).toBe(201);
    expect([...echo.body]).toEqual([1, 2, 3]);
    expect(echo.headers["x-method"]).toBe("PUT");
  });

  it("enforces maxBytes while the body arrives", async () => {
    const error = await errorOf(httpRequest(`${origin}/big`, { maxBytes: 50_000 }));
    expect(error.code).toBe("EIO");
    expect(error.transient).toBe(false);
    expect(error.message).toMatch(/larger than maxBytes \(50000\)/);
    const ok = await httpRequest(`${origin}/big`, { maxBytes: 1_000_000 });
    expect(ok.body.byteLength).toBe(1_000_000);
    // A Content-Length above the limit is refused before the body, and the stream it destroys
    // raises no uncaught error (vitest fails the run on one).
    const announced = await errorOf(httpRequest(`${origin}/biglen`, { maxBytes: 50_000 }));
    expect(announced.message).toMatch(/larger than maxBytes \(50000\); got at least 1000000 bytes/);
    await new Promise((resolve) => setTimeout(resolve, 50));
  });

  it("classifies a cut body, a timeout and a refused connection as transient", async () => {
    const cut = await errorOf(httpRequest(`${origin}/cut`));
    expect(cut).toMatchObject({ code: "EIO", transient: true });
    const slow = await errorOf(httpRequest(`${origin}/slow`, { timeoutMs: 100 }));
    expect(slow).toMatchObject({ code: "ETIMEDOUT", transient: true });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await errorOf(httpRequest(`http://127.0.0.1:${port}/x?token=abc`));
    expect(refused).toMatchObject({ code: "EIO", transient: true });
    // The query (where signatures and tokens travel) is not in the message.
    expect(refused.message).not.toContain("token=abc");
  });

  it("an abort from the caller is ECANCELED, not retried", async () => {
    const controller = new AbortController();
    const pending = httpRequest(`${origin}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect(await errorOf(pending)).toMatchObject({ code: "ECANCELED", transient: false });
  });
});
