import { type MountDiagnostic, MountError } from "@ws/core";
import { type MiniflareR2Server, startMiniflareR2 } from "@ws/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { R2BucketBinding } from "./r2-binding.js";
import { R2Bucket } from "./r2-bucket.js";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (MountError.isInstance(error)) return error.code;
    throw error;
  }
  return "resolved";
}

// The binding is a proxy into the process that started Miniflare, so each test file starts its own.
let server: MiniflareR2Server;
let bucket: R2BucketBinding;

beforeAll(async () => {
  server = await startMiniflareR2({ buckets: ["BUCKET"] });
  bucket = await server.bucket<R2BucketBinding>("BUCKET");
});
afterAll(async () => {
  await server?.stop();
});

async function seed(files: Record<string, string | Uint8Array>): Promise<void> {
  const entries = Object.entries(files);
  for (let i = 0; i < entries.length; i += 50) {
    await Promise.all(
      entries
        .slice(i, i + 50)
        .map(([key, body]) => bucket.put(key, typeof body === "string" ? text(body) : body)),
    );
  }
}

async function stored(key: string): Promise<string | undefined> {
  const object = await bucket.get(key);
  return object === null ? undefined : decode(new Uint8Array(await object.arrayBuffer()));
}

describe("R2Bucket on Miniflare", () => {
  it("lists with the prefix stripped, skips folder markers and reports keys that cannot be paths", async () => {
    await seed({
      "basic/a.txt": "a",
      "basic/dir/b.txt": "bb",
      "basic/dir/": "",
      "basic/bad//double.txt": "x",
      "basicfile.txt": "outside",
    });
    const diagnostics: MountDiagnostic[] = [];
    const mount = R2Bucket(bucket, { prefix: "/basic/", onDiagnostic: (d) => diagnostics.push(d) });
    const entries = await mount.list();
    expect(entries.map((e) => [e.path, e.size]).sort()).toEqual([
      ["a.txt", 1],
      ["dir/b.txt", 2],
    ]);
    expect(entries.every((e) => typeof e.mtime === "number" && typeof e.etag === "string")).toBe(true);
    expect(diagnostics.map((d) => d.key)).toEqual(["bad//double.txt"]);
    const bytes = await mount.fetch("dir/b.txt");
    expect(decode(bytes)).toBe("bb");
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(2);
    expect(await codeOf(mount.fetch("missing.txt"))).toBe("ENOENT");
    expect(await codeOf(mount.fetch("../basicfile.txt"))).toBe("EINVAL");
  });

  // 2,500 puts into Miniflare take 15 s on a quiet machine and 60 s on a loaded one: a hang guard, not a timing check.
  it("lists 2,500 keys across pages with the cursor", { timeout: 240_000 }, async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 2500; i++) files[`many/d${i % 5}/k${String(i).padStart(5, "0")}`] = String(i);
    await seed(files);
    const entries = await R2Bucket(bucket, { prefix: "many" }).list();
    expect(entries.map((e) => e.path).sort()).toEqual(
      Object.keys(files)
        .map((k) => k.slice("many/".length))
        .sort(),
    );
  });

  it("pages with a small page size too", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 25; i++) files[`small/k${i}`] = String(i);
    await seed(files);
    expect(await R2Bucket(bucket, { prefix: "small", pageSize: 7 }).list()).toHaveLength(25);
  });

  it("refuses writes on a read-only mount with EROFS and leaves the bucket untouched", async () => {
    await seed({ "ro/keep.txt": "keep" });
    const mount = R2Bucket(bucket, { prefix: "ro" });
    expect(mount.writable).toBe(false);
    expect(await codeOf(mount.put("keep.txt", text("changed")))).toBe("EROFS");
    expect(await codeOf(mount.delete("keep.txt"))).toBe("EROFS");
    expect(await stored("ro/keep.txt")).toBe("keep");
  });

  it("puts (Buffers and views included), overwrites and deletes; a missing key deletes fine", async () => {
    const mount = R2Bucket(bucket, { prefix: "rw", mode: "read-write" });
    await mount.put("a/b.txt", text("long content"));
    await mount.put("a/b.txt", Buffer.from("short"));
    expect(await stored("rw/a/b.txt")).toBe("short");
    const big = text("0123456789");
    await mount.put("view.txt", big.subarray(2, 5));
    expect(await stored("rw/view.txt")).toBe("234");
    await mount.delete("a/b.txt");
    await mount.delete("a/b.txt");
    await mount.delete("never/was.txt");
    expect(await stored("rw/a/b.txt")).toBeUndefined();
  });

  it("answers conditional-write conflicts with EEXIST and ESTALE, and honours a matching etag", async () => {
    const mount = R2Bucket(bucket, { prefix: "cond", mode: "read-write" });
    const { etag } = await mount.putObject("lock", text("one"), { ifNoneMatch: "*" });
    expect(await codeOf(mount.put("lock", text("two"), { ifNoneMatch: "*" }))).toBe("EEXIST");
    expect(
      await codeOf(mount.put("lock", text("two"), { ifMatch: "0123456789abcdef0123456789abcdef" })),
    ).toBe("ESTALE");
    expect(await codeOf(mount.put("absent", text("x"), { ifMatch: etag }))).toBe("ESTALE");
    expect(await stored("cond/lock")).toBe("one");
    expect(await stored("cond/absent")).toBeUndefined();
    expect(await codeOf(mount.put("lock", text("two"), { ifMatch: '"0123"' }))).toBe("ESTALE");
    await mount.put("lock", text("three"), { ifMatch: `"${etag}"` });
    expect(await stored("cond/lock")).toBe("three");
    const listed = (await mount.list()).find((e) => e.path === "lock");
    await mount.put("lock", text("four"), { ifMatch: listed!.etag! });
    expect(await stored("cond/lock")).toBe("four");
  });
});

describe("R2Bucket when the binding fails", () => {
  it("keeps a folder's mode on its marker (s3fs's directory mode) and lists it back from the listing", async () => {
    const mount = R2Bucket(bucket, { prefix: "fm", mode: "read-write" });
    await mount.mkdir?.("private", { mode: 0o700 });
    await mount.mkdir?.("ro", { mode: 0o555 });
    await mount.mkdir?.("plain");
    await mount.put("ro/a.txt", text("a"));
    expect((await bucket.head("fm/private/"))?.customMetadata?.["mode"]).toBe(String(0o040700));
    const listed = (await mount.list()).sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(
      listed.map((e) => [e.path, e.type ?? "file", e.type === "directory" ? e.mode : undefined]),
    ).toEqual([
      ["plain", "directory", undefined],
      ["private", "directory", 0o700],
      // A marker beside its folder's files is kept when it carries the folder's mode.
      ["ro", "directory", 0o555],
      ["ro/a.txt", "file", undefined],
    ]);
  });

  it("rejects EIO with the cause once Miniflare is gone (no hang)", async () => {
    const own = await startMiniflareR2({ buckets: ["GONE"] });
    const binding = await own.bucket<R2BucketBinding>("GONE");
    await binding.put("x.txt", text("x"));
    const mount = R2Bucket(binding);
    expect(await mount.list()).toHaveLength(1);
    await own.stop();
    const error = await mount.fetch("x.txt").catch((e: unknown) => e);
    expect(MountError.hasCode(error, "EIO")).toBe(true);
    expect((error as MountError).cause).toBeDefined();
  });

  it("rejects a prefix that could leave the subtree, and a page size R2 would refuse", () => {
    for (const prefix of ["../x", "a/../b", "a//b"]) {
      expect(() => R2Bucket(bucket, { prefix })).toThrow(/EINVAL/);
    }
    expect(R2Bucket(bucket, { prefix: "/team/a/" }).prefix).toBe("team/a");
    expect(() => R2Bucket(bucket, { pageSize: 1001 })).toThrow(/EINVAL/);
  });

  it("rejects something that is not a binding", () => {
    expect(() => R2Bucket({} as R2BucketBinding)).toThrow(/R2 bucket binding/);
  });
});
