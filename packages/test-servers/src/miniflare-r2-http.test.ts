import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MiniflareR2HttpServer, startMiniflareR2Http } from "./miniflare-r2-http.js";
import { portOpen } from "./process-group.js";
import { type R2HttpBinding, type R2HttpObjectBody, r2HttpBinding } from "./r2-http-binding.js";

const run = promisify(execFile);
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = async (o: unknown): Promise<string> => (o as R2HttpObjectBody).text();

describe("startMiniflareR2Http: workerd's R2 binding over HTTP, reachable from any process", () => {
  let server: MiniflareR2HttpServer;
  let a: R2HttpBinding;
  let b: R2HttpBinding;
  beforeAll(async () => {
    server = await startMiniflareR2Http({ buckets: ["A", "B"] });
    a = r2HttpBinding(server.info(), "A");
    b = r2HttpBinding(server.info(), "B");
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("puts, gets, heads, lists and deletes, bucket by bucket", async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const put = await a.put("dir/é ü.txt", bytes("hello"), { customMetadata: { mode: "420" } });
    expect(put).toMatchObject({ key: "dir/é ü.txt", size: 5 });
    expect(put!.httpEtag).toBe(`"${put!.etag}"`);
    expect(put!.uploaded).toBeInstanceOf(Date);
    expect(await text(await a.get("dir/é ü.txt"))).toBe("hello");
    expect(await a.head("dir/é ü.txt")).toMatchObject({ etag: put!.etag, customMetadata: { mode: "420" } });
    expect(await b.get("dir/é ü.txt")).toBeNull();
    expect(await a.head("missing")).toBeNull();
    await a.put("dir/empty", null);
    expect((await a.head("dir/empty"))?.size).toBe(0);
    await a.put("top.txt", "a string body");
    const listed = await a.list({ prefix: "dir/", include: ["customMetadata"] });
    expect(listed.objects.map((o) => o.key)).toEqual(["dir/empty", "dir/é ü.txt"]);
    expect(listed.objects[1]!.customMetadata).toEqual({ mode: "420" });
    const delimited = await a.list({ delimiter: "/" });
    expect(delimited.delimitedPrefixes).toEqual(["dir/"]);
    expect(delimited.objects.map((o) => o.key)).toEqual(["top.txt"]);
    const page = await a.list({ limit: 1 });
    expect(page.truncated).toBe(true);
    expect((await a.list({ limit: 1, cursor: page.cursor! })).objects[0]!.key).not.toBe(page.objects[0]!.key);
    const range = await a.get("dir/é ü.txt", { range: { offset: 1, length: 3 } });
    expect(await text(range)).toBe("ell");
    await a.delete(["dir/empty", "top.txt"]);
    expect((await a.list()).objects.map((o) => o.key)).toEqual(["dir/é ü.txt"]);
  });

  it("conditional puts in both directions, decided by workerd", async () => {
    const first = await a.put("cond", bytes("v1"), { onlyIf: { etagDoesNotMatch: "*" } });
    expect(first).not.toBeNull();
    expect(await a.put("cond", bytes("again"), { onlyIf: { etagDoesNotMatch: "*" } })).toBeNull();
    expect(await a.put("cond", bytes("stale"), { onlyIf: { etagMatches: "0000" } })).toBeNull();
    const second = await a.put("cond", bytes("v2"), { onlyIf: { etagMatches: first!.etag } });
    expect(second?.etag).not.toBe(first!.etag);
    expect(await text(await a.get("cond"))).toBe("v2");
    // A get whose condition fails answers the object without a body, as R2 does.
    const unmet = await a.get("cond", { onlyIf: { etagMatches: first!.etag } });
    expect(unmet).not.toBeNull();
    expect("arrayBuffer" in unmet!).toBe(false);
  });

  it("passes workerd's errors through with their message", async () => {
    // R2's own message, numeric code included (mount-r2 classifies by it).
    await expect(a.list({ limit: 1001 })).rejects.toThrow(/MaxKeys .*<= 1000\. \(10022\)$/);
    await expect(r2HttpBinding(server.info(), "NOPE").head("k")).rejects.toThrow(/no R2 binding named NOPE/);
  });

  it("another OS process reaches the same buckets", async () => {
    // The client module alone, transpiled (Node 20 does not run TypeScript), in a child process.
    const source = await readFile(new URL("./r2-http-binding.ts", import.meta.url), "utf8");
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const script = `${js}
      const bucket = r2HttpBinding(${JSON.stringify(server.info())}, "B");
      const put = await bucket.put("from-child", "child bytes", { onlyIf: { etagDoesNotMatch: "*" } });
      const again = await bucket.put("from-child", "x", { onlyIf: { etagDoesNotMatch: "*" } });
      console.log(JSON.stringify({ pid: process.pid, etag: put.etag, again }));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script]);
    const child = JSON.parse(stdout) as { pid: number; etag: string; again: unknown };
    expect(child.pid).not.toBe(process.pid);
    expect(child.again).toBeNull();
    const seen = await b.get("from-child");
    expect(seen?.etag).toBe(child.etag);
    expect(await text(seen)).toBe("child bytes");
  });

  it("stops idempotently and frees its port", async () => {
    const other = await startMiniflareR2Http();
    const port = Number(new URL(other.url).port);
    expect(await portOpen(port)).toBe(true);
    await other.stop();
    await other.stop();
    expect(await portOpen(port)).toBe(false);
  });
});
