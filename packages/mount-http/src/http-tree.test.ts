import { createHash } from "node:crypto";
import * as diagnostics from "node:diagnostics_channel";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MountError } from "@ws/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostileServer, SHA_BYTES, startHostileServer } from "../test/hostile-server.js";
import { folderUrl, serverInfo, serverOptions } from "../test/http-harness.js";
import { HttpTree } from "./http-tree.js";

let server: HostileServer;
beforeAll(async () => {
  server = await startHostileServer();
});
afterAll(async () => {
  await server?.stop();
});

async function errorOf(promise: Promise<unknown>): Promise<MountError> {
  try {
    await promise;
  } catch (error) {
    if (MountError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe("manifest", () => {
  it("lists every page, with etag, mtime and mode, and skips invalid paths", async () => {
    const diagnostics: string[] = [];
    const mount = HttpTree(`${server.url}manifest`, {
      listing: "manifest",
      onDiagnostic: (d) => diagnostics.push(d.key),
    });
    expect(mount.listingFormat).toBe("manifest");
    const entries = await mount.list();
    expect(entries.map((e) => e.path).sort()).toEqual(
      ["dir/nested.txt", "good.txt", "long.txt", "page2.txt", "short.txt", "tampered.txt"].sort(),
    );
    expect(entries.find((e) => e.path === "dir/nested.txt")).toEqual({
      path: "dir/nested.txt",
      size: 6,
      etag: '"n1"',
      mtime: Date.parse("2026-01-02T03:04:05Z"),
      mode: 0o755,
    });
    expect(diagnostics).toEqual(["../escape.txt"]);
  });

  it("bytes whose sha256 differs from the manifest's are EIO, never data", async () => {
    const mount = HttpTree(`${server.url}manifest/`, { listing: "manifest" });
    await mount.list();
    expect(text(await mount.fetch("good.txt"))).toBe(SHA_BYTES);
    const error = await errorOf(mount.fetch("tampered.txt"));
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/sha256 .* does not match/);
  });

  it("a body shorter or longer than the listed size is EIO", async () => {
    const mount = HttpTree(`${server.url}manifest/`, { listing: "manifest" });
    await mount.list();
    const short = await errorOf(mount.fetch("short.txt"));
    expect(short.code).toBe("EIO");
    expect(short.message).toMatch(/sent 16 bytes, but the listing says 100/);
    const long = await errorOf(mount.fetch("long.txt"));
    expect(long.code).toBe("EIO");
    expect(long.message).toMatch(/larger than maxBytes \(5\)/);
  });
});

describe("errors", () => {
  it.each([
    ["status/401/", "EACCES", false],
    ["status/403/", "EACCES", false],
    ["status/429/", "EAGAIN", true],
    ["status/503/", "EIO", true],
    ["status/500/", "EIO", true],
    ["status/418/", "EIO", false],
  ])("%s → %s (transient: %s)", async (path, code, transient) => {
    const error = await errorOf(HttpTree(`${server.url}${path}`).fetch("a.txt"));
    expect(error.code).toBe(code);
    expect((error as MountError & { transient?: boolean }).transient).toBe(transient);
    expect(error.path).toBe("a.txt");
  });

  it("Retry-After reaches the error for the retry layer", async () => {
    const error = (await errorOf(HttpTree(`${server.url}status/429/`).fetch("a.txt"))) as MountError & {
      retryAfterMs?: number;
    };
    expect(error.retryAfterMs).toBe(7000);
    expect(error.message).toMatch(/retry after 7 s/);
  });

  it("a missing file is ENOENT", async () => {
    expect((await errorOf(HttpTree(`${server.url}nothing/`).fetch("x.txt"))).code).toBe("ENOENT");
  });

  it("a server that never answers is ETIMEDOUT after timeoutMs", async () => {
    const started = Date.now();
    const error = await errorOf(HttpTree(`${server.url}slow/`, { timeoutMs: 300 }).fetch("x.txt"));
    expect(error.code).toBe("ETIMEDOUT");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("timeoutMs is an idle timeout: a body that keeps flowing is read, one that stalls is ETIMEDOUT", async () => {
    const mount = HttpTree(`${server.url}trickle/`, { timeoutMs: 400 });
    expect(Array.from(await mount.fetch("flowing.bin"))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const error = await errorOf(mount.fetch("stalled.bin"));
    expect(error.code).toBe("ETIMEDOUT");
    expect(error.message).toMatch(/nothing arrived for 400 ms|timed out/);
  });

  it("a body cut short of its Content-Length is a transient EIO, never data", async () => {
    const error = await errorOf(HttpTree(`${server.url}truncated/`).fetch("cut.bin"));
    expect(error.code).toBe("EIO");
  });

  it("a refused server is a transient EIO", async () => {
    const error = await errorOf(HttpTree("http://127.0.0.1:9/x/").fetch("a.txt"));
    expect(error.code).toBe("EIO");
    expect((error as MountError & { transient?: boolean }).transient).toBe(true);
  });

  it.each([
    [{ listing: "ftp" }, /listing must be one of/],
    [{ concurrency: 0 }, /concurrency must be/],
    [{ timeoutMs: -1 }, /timeoutMs must be/],
    [{ auth: { token: "x" } }, /auth must be/],
    [{ redirectOrigins: ["not a url"] }, /redirectOrigins/],
  ])("bad options are EINVAL naming the option (%j)", (options, message) => {
    expect(() => HttpTree(server.url, options as never)).toThrow(message);
  });

  it("a base URL with a query string is EINVAL", () => {
    expect(() => HttpTree(`${server.url}x/?token=abc`)).toThrow(/query string/);
  });
});

describe("large-read fast path", () => {
  it("a chunked answer falls back to the pool and is read whole", async () => {
    const mount = HttpTree(`${server.url}fast/`, { rangeThreshold: 0, readStreams: 2 });
    await mount.list();
    const bytes = await mount.fetch("chunked.bin");
    expect(bytes.length).toBe(5000);
    expect(bytes.every((b, i) => b === i % 251)).toBe(true);
  });

  it("a body cut short is a transient EIO", async () => {
    const mount = HttpTree(`${server.url}fast/`, { rangeThreshold: 0, readStreams: 1 });
    await mount.list();
    const error = (await errorOf(mount.fetch("cut.bin"))) as MountError & { transient?: boolean };
    expect(error.code).toBe("EIO");
    expect(error.transient).toBe(true);
  });
});

describe("large files", () => {
  const size = 3 * 1024 * 1024 + 12_345;
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7919) % 251;
  const digest = createHash("sha256").update(bytes).digest("hex");

  it.each(["nginx-json", "python-http", "rclone-webdav"] as const)(
    "%s: read in parallel ranges where Range works, whole where it is ignored",
    async (name) => {
      const info = serverInfo(name);
      const folder = `large-${Date.now()}`;
      await mkdir(join(info.dataDir, folder), { recursive: true });
      try {
        await writeFile(join(info.dataDir, folder, "big.bin"), bytes);
        const mount = HttpTree(folderUrl(info, folder), {
          ...serverOptions(info),
          rangeThreshold: 0,
          readStreams: 5,
        });
        expect((await mount.list()).map((e) => [e.path, e.size])).toEqual([["big.bin", size]]);
        const got = await mount.fetch("big.bin");
        expect(got.length).toBe(size);
        expect(createHash("sha256").update(got).digest("hex")).toBe(digest);
      } finally {
        await rm(join(info.dataDir, folder), { recursive: true, force: true });
      }
    },
  );
});

describe("WebDAV", () => {
  it("walks Depth 1 where the server refuses Depth: infinity, trusting only direct children", async () => {
    const mount = HttpTree(`${server.url}dav1/`);
    const entries = await mount.list();
    expect(mount.listingFormat).toBe("webdav");
    expect(entries.map((e) => [e.path, e.size, e.etag])).toEqual([
      ["a.txt", 1, '"e-1"'],
      ["sub/b.txt", 2, '"e-2"'],
    ]);
    expect(text(await mount.fetch("sub/b.txt"))).toBe("bb");
    const depths = server.requests.filter((r) => r.path.startsWith("/dav1/") && r.method === "PROPFIND");
    expect(depths.length).toBe(4); // detection (Depth 0), infinity (403), two Depth 1 folders
  });

  it("with conditionalWrites, a 412 is EEXIST (ifNoneMatch) or ESTALE (ifMatch); put returns the new ETag", async () => {
    const mount = HttpTree(`${server.url}precondition/`, { mode: "read-write", conditionalWrites: true });
    expect((await errorOf(mount.put("x.txt", new Uint8Array(1), { ifNoneMatch: "*" }))).code).toBe("EEXIST");
    expect((await errorOf(mount.put("x.txt", new Uint8Array(1), { ifMatch: '"old"' }))).code).toBe("ESTALE");
    expect(await mount.put("x.txt", new Uint8Array(1))).toEqual({ etag: '"new-etag"' });
  });

  it("without conditionalWrites, a conditional put is ENOTSUP before any request", async () => {
    const before = server.requests.length;
    const mount = HttpTree(`${server.url}precondition/`, { mode: "read-write" });
    expect((await errorOf(mount.put("x.txt", new Uint8Array(1), { ifNoneMatch: "*" }))).code).toBe("ENOTSUP");
    expect(server.requests.length).toBe(before);
  });
});

describe("WebDAV Depth: infinity answered with one level", () => {
  it("walks the collections that came back empty-handed, so no subtree is hidden", async () => {
    const mount = HttpTree(`${server.url}dav-shallow/`);
    expect((await mount.list()).map((e) => e.path)).toEqual(["a.txt", "sub/b.txt"]);
  });
});

describe("HTML indexes with exact sizes", () => {
  it.each(["nginx-html", "rclone-http", "python-http"] as const)(
    "%s: sizes from the page where it prints them exactly, HEAD otherwise",
    async (name) => {
      const info = serverInfo(name);
      const folder = `sizes-${Date.now()}`;
      const files = { "a.txt": "aaaa", "sub/b.bin": "0123456789" };
      await mkdir(join(info.dataDir, folder, "sub"), { recursive: true });
      for (const [path, body] of Object.entries(files))
        await writeFile(join(info.dataDir, folder, path), body);
      const heads: string[] = [];
      const onCreate = (message: unknown): void => {
        const request = (message as { request: { method: string; path: string } }).request;
        if (request.method === "HEAD") heads.push(request.path);
      };
      // Listings go through node:http; count undici's requests too.
      const onNode = (message: unknown): void => {
        const request = (message as { request: { method: string; path: string } }).request;
        if (request.method === "HEAD") heads.push(request.path);
      };
      diagnostics.subscribe("undici:request:create", onCreate);
      diagnostics.subscribe("http.client.request.start", onNode);
      try {
        const mount = HttpTree(folderUrl(info, folder), serverOptions(info));
        const entries = await mount.list();
        expect(entries.map((e) => [e.path, e.size]).sort()).toEqual([
          ["a.txt", 4],
          ["sub/b.bin", 10],
        ]);
        expect(heads.length).toBe(name === "python-http" ? 2 : 0);
      } finally {
        diagnostics.unsubscribe("undici:request:create", onCreate);
        diagnostics.unsubscribe("http.client.request.start", onNode);
        await rm(join(info.dataDir, folder), { recursive: true, force: true });
      }
    },
  );
});
