import { describe, expect, it } from "vitest";
import { MountError } from "./errors.js";
import { MemoryMount, MemoryStore } from "./memory-mount.js";
import type { MountDiagnostic } from "./types.js";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return MountError.isInstance(error) ? error.code : "not-a-mount-error";
  }
}

describe("MemoryMount", () => {
  it("is a read-only lazy mount by default", async () => {
    const mount = MemoryMount({ files: { "a.txt": "A", "dir/b.txt": "BB" } });
    expect(mount).toMatchObject({ kind: "memory", strategy: "lazy", writable: false, rootType: "directory" });
    const entries = await mount.list();
    expect(entries.map(({ path, size }) => ({ path, size }))).toEqual([
      { path: "a.txt", size: 1 },
      { path: "dir/b.txt", size: 2 },
    ]);
    expect(entries.every((e) => typeof e.etag === "string" && typeof e.mtime === "number")).toBe(true);
    expect(text(await mount.fetch("dir/b.txt"))).toBe("BB");
    expect(await codeOf(mount.put("x", new Uint8Array(1)))).toBe("EROFS");
    expect(await codeOf(mount.delete("a.txt"))).toBe("EROFS");
    expect(mount.store.has("a.txt")).toBe(true);
    expect(mount.store.has("x")).toBe(false);
  });

  it("returns exact, non-aliased bytes", async () => {
    const store = new MemoryStore({ f: new Uint8Array([1, 2, 3]) });
    const mount = MemoryMount({ store });
    const bytes = await mount.fetch("f");
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(3);
    bytes[0] = 99;
    expect([...(await mount.fetch("f"))]).toEqual([1, 2, 3]);
  });

  it("copies what it stores", async () => {
    const mount = MemoryMount({ mode: "read-write" });
    const input = new Uint8Array([7, 7]);
    await mount.put("p", input);
    input[0] = 0;
    expect([...(await mount.fetch("p"))]).toEqual([7, 7]);
  });

  it("reports ENOENT, EISDIR and EINVAL", async () => {
    const mount = MemoryMount({ files: { "dir/x": "1" } });
    expect(await codeOf(mount.fetch("missing"))).toBe("ENOENT");
    expect(await codeOf(mount.fetch("dir"))).toBe("EISDIR");
    expect(await codeOf(mount.fetch("../dir/x"))).toBe("EINVAL");
    expect(await codeOf(mount.fetch("/dir/x"))).toBe("EINVAL");
  });

  it("writes and deletes when read-write; deleting a missing path succeeds", async () => {
    const mount = MemoryMount({ mode: "read-write" });
    await mount.put("a/b.txt", new TextEncoder().encode("hello"));
    expect(text(mount.store.get("a/b.txt")!.bytes)).toBe("hello");
    await mount.delete("a/b.txt");
    await mount.delete("a/b.txt");
    expect(mount.store.size).toBe(0);
    expect(await codeOf(mount.fetch("a/b.txt"))).toBe("ENOENT");
  });

  it("refuses writes that would make a key both a file and a directory", async () => {
    const mount = MemoryMount({ mode: "read-write", files: { "a/b": "1", f: "2" } });
    expect(await codeOf(mount.put("a", new Uint8Array()))).toBe("EISDIR");
    expect(await codeOf(mount.put("f/x", new Uint8Array()))).toBe("ENOTDIR");
  });

  it("honours ifNoneMatch and ifMatch", async () => {
    const mount = MemoryMount({ mode: "read-write" });
    await mount.put("lock", new Uint8Array([1]), { ifNoneMatch: "*" });
    expect(await codeOf(mount.put("lock", new Uint8Array([2]), { ifNoneMatch: "*" }))).toBe("EEXIST");
    const etag = mount.store.get("lock")!.etag;
    expect(await codeOf(mount.put("lock", new Uint8Array([3]), { ifMatch: "wrong" }))).toBe("ESTALE");
    await mount.put("lock", new Uint8Array([4]), { ifMatch: etag });
    expect([...(await mount.fetch("lock"))]).toEqual([4]);
    expect(await codeOf(mount.put("gone", new Uint8Array([5]), { ifMatch: etag }))).toBe("ESTALE");
  });

  it("mounts a sub-prefix, stripping it and hiding other keys", async () => {
    const store = new MemoryStore({
      "team/a/x": "1",
      "team/a/y/z": "2",
      "team/ab/q": "3",
      "team/a": "conflict?",
    });
    const mount = MemoryMount({ store, prefix: "/team/a/", mode: "read-write" });
    expect((await mount.list()).map((e) => e.path)).toEqual(["x", "y/z"]);
    await mount.put("new", new Uint8Array([1]));
    expect(store.has("team/a/new")).toBe(true);
  });

  it("skips keys that cannot be paths and reports each", async () => {
    const diagnostics: MountDiagnostic[] = [];
    const store = new MemoryStore({ ok: "1", "a//b": "2", "../x": "3", "/abs": "4", d: "5", "d/e": "6" });
    const mount = MemoryMount({ store, onDiagnostic: (d) => diagnostics.push(d) });
    expect((await mount.list()).map((e) => e.path)).toEqual(["d/e", "ok"]);
    expect(diagnostics.map((d) => d.key).sort()).toEqual(["../x", "/abs", "a//b", "d"]);
  });

  it("rejects an invalid prefix and invalid options", () => {
    expect(() => MemoryMount({ prefix: "a/../b" })).toThrow(/prefix/);
    expect(() => MemoryMount({ mode: "rw" as never })).toThrow(/mode/);
  });
});

describe("MemoryMount paging and seeding", () => {
  it("walks every page, with boundary keys intact", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 7; i++) files[`k${i}`] = String(i);
    files["k2#"] = "hash";
    files["k2+"] = "plus";
    const mount = MemoryMount({ files, pageSize: 3 });
    expect((await mount.list()).map((e) => e.path)).toEqual(Object.keys(files).sort());
    expect(mount.store.listPage("", "k2", 2)).toEqual({ keys: ["k2#", "k2+"], truncated: true });
    expect(mount.store.listPage("", "k5", 3)).toEqual({ keys: ["k6"], truncated: false });
  });

  it("rejects a page size that cannot make progress", () => {
    expect(() => MemoryMount({ pageSize: 0 })).toThrow(/pageSize/);
  });

  it("adds files given as pairs to an existing store", async () => {
    const store = new MemoryStore({ a: "1" });
    const mount = MemoryMount({ store, files: [["b", "2"]] });
    expect((await mount.list()).map((e) => e.path)).toEqual(["a", "b"]);
  });
});
