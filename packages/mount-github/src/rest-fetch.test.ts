import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { gzipSync } from "node:zlib";
import { classifyNetworkError } from "@ws/provider-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { restFetch } from "./rest-fetch.js";

// The collector, on demand: what freed a dropped Response's body under Node's fetch.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];
async function serve(handler: Handler): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

const fetcher = restFetch({ timeoutMs: 1000, connections: 4, maxBodyBytes: 1024 * 1024 });
afterAll(() => fetcher.close());

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected a rejection");
}

const SIZE = 256 * 1024;
let slow = "";
let seen: IncomingMessage[] = [];
beforeAll(async () => {
  slow = await serve((req, res) => {
    seen.push(req);
    if (req.url === "/chunked") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.write(Buffer.alloc(SIZE / 2, 1));
      setTimeout(() => res.end(Buffer.alloc(SIZE / 2, 2)), 20);
      return;
    }
    if (req.url === "/gzip") {
      const body = gzipSync(Buffer.from(JSON.stringify({ tree: Array.from({ length: 500 }, (_, i) => i) })));
      res.writeHead(200, {
        "content-type": "application/json",
        "content-encoding": "gzip",
        "content-length": body.length,
      });
      res.end(body);
      return;
    }
    if (req.url === "/bomb") {
      // 2 MiB of zeros, about 2 KB compressed: over the 1 MiB cap once decoded.
      const bomb = gzipSync(Buffer.alloc(2 * 1024 * 1024));
      res.writeHead(200, { "content-encoding": "gzip", "content-length": bomb.length });
      res.end(bomb);
      return;
    }
    if (req.url === "/damaged") {
      res.writeHead(200, { "content-encoding": "gzip", "content-length": 4 });
      res.end("oops");
      return;
    }
    if (req.url === "/brotli") {
      res.writeHead(200, { "content-encoding": "br", "content-length": 3 });
      res.end("abc");
      return;
    }
    if (req.url === "/short") {
      res.writeHead(200, { "content-length": 100 });
      res.write("only ten b");
      setTimeout(() => res.destroy(), 20);
      return;
    }
    if (req.url === "/stall") {
      res.writeHead(200, { "content-length": 100 });
      res.write("a little");
      return; // and nothing more
    }
    if (req.url === "/huge-announced") {
      res.writeHead(200, { "content-length": 2 * 1024 * 1024 });
      res.write("x");
      return;
    }
    if (req.url === "/huge-chunked") {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 7);
      let sent = 0;
      const more = (): void => {
        while (sent < 4 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (sent < 4 * 1024 * 1024) res.once("drain", more);
        else res.end();
      };
      more();
      return;
    }
    if (req.url?.startsWith("/hop/")) {
      const n = Number(req.url.slice(5));
      res.writeHead(302, { location: n > 0 ? `/hop/${n - 1}` : "/echo" });
      res.end();
      return;
    }
    if (req.url === "/echo") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ authorization: req.headers.authorization ?? null }));
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": SIZE });
    res.end(Buffer.alloc(SIZE, 3));
  });
});

describe("restFetch (Octokit's fetch in GitHubTree)", () => {
  it("reads a Content-Length body into one array of that size, and a chunked one whole", async () => {
    const sized = await fetcher(`${slow}/sized`);
    expect(sized.status).toBe(200);
    expect(sized.body.byteLength).toBe(SIZE);
    expect(sized.body.buffer.byteLength).toBe(SIZE);
    expect(sized.body.every((b) => b === 3)).toBe(true);
    const chunked = await fetcher(`${slow}/chunked`);
    expect(chunked.body.byteLength).toBe(SIZE);
    expect(chunked.body[0]).toBe(1);
    expect(chunked.body[SIZE - 1]).toBe(2);
    expect(chunked.headers.get("content-type")).toBe("application/octet-stream");
    expect([...chunked.headers].some(([k]) => k === "content-type")).toBe(true);
  });

  it("a body stays whole when its response is dropped and collected before it is read", async () => {
    // Under Node's fetch, Octokit's dropping of the Response let undici cancel the body: blobs came back empty.
    for (let i = 0; i < 3; i++) {
      const body = await (async () => (await fetcher(`${slow}/chunked`)).body)();
      for (let j = 0; j < 3; j++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(body.byteLength).toBe(SIZE);
    }
  });

  it("the body is a plain Uint8Array: its slice() is a copy, not a view", async () => {
    const { body } = await fetcher(`${slow}/sized`);
    expect(Buffer.isBuffer(body)).toBe(false);
    const copy = body.slice();
    copy[0] = 9;
    expect(body[0]).toBe(3);
  });

  it("asks for gzip, decodes it within the cap, and drops the headers of the encoded body", async () => {
    seen = [];
    const answer = await fetcher(`${slow}/gzip`);
    expect(seen[0]?.headers["accept-encoding"]).toBe("gzip");
    expect(JSON.parse(await answer.text()).tree).toHaveLength(500);
    expect(answer.headers.has("content-encoding")).toBe(false);
    expect(answer.headers.has("content-length")).toBe(false);
    const bomb = await failure(fetcher(`${slow}/bomb`));
    expect(bomb.code).toBe("EFBIG");
    expect(bomb.message).toMatch(/decodes to more than 1048576 bytes/);
    expect((await failure(fetcher(`${slow}/damaged`))).message).toMatch(
      /gzip answer of .*\/damaged is damaged/,
    );
    const unasked = await failure(fetcher(`${slow}/brotli`));
    expect(unasked.message).toMatch(/content-encoding br/);
  });

  it("follows redirects, keeping the token only on its own origin", async () => {
    const auth = { authorization: "token ghp_secret" };
    const same = await fetcher(`${slow}/hop/2`, { headers: auth });
    expect(same.url).toBe(`${slow}/echo`);
    expect(JSON.parse(await same.text()).authorization).toBe("token ghp_secret");
    const other = await serve((_req, res) => {
      res.writeHead(301, { location: `${slow}/echo` });
      res.end();
    });
    const crossed = await fetcher(`${other}/moved`, { headers: auth });
    expect(JSON.parse(await crossed.text()).authorization).toBeNull();
    const manual = await fetcher(`${slow}/hop/0`, { redirect: "manual" });
    expect(manual.status).toBe(302);
    expect((await failure(fetcher(`${slow}/hop/11`))).message).toMatch(/more than 10 redirects/);
  });

  it("a body cut short, a server that stalls, a body over the cap and a refused connection fail with a code", async () => {
    const short = await failure(fetcher(`${slow}/short`));
    expect(classifyNetworkError(short)?.code).toBe("EIO");
    const started = Date.now();
    const stalled = await failure(fetcher(`${slow}/stall`));
    expect(classifyNetworkError(stalled)?.code).toBe("ETIMEDOUT");
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await failure(fetcher(`${slow}/huge-announced`))).code).toBe("EFBIG");
    expect((await failure(fetcher(`${slow}/huge-chunked`))).code).toBe("EFBIG");
    const refused = await failure(fetcher("http://127.0.0.1:9/"));
    expect(classifyNetworkError(refused)?.code).toBe("EIO");
  });

  it("an abort signal ends the request with an AbortError", async () => {
    const controller = new AbortController();
    const pending = fetcher(`${slow}/stall`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const aborted = await failure(pending);
    expect(aborted.name).toBe("AbortError");
    expect((await failure(fetcher(`${slow}/sized`, { signal: AbortSignal.abort() }))).name).toBe(
      "AbortError",
    );
  });
});
