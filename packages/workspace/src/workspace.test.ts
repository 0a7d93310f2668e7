import { type EagerMount, MemoryMount, type MountContext, MountError } from "@ws/core";
import { describe, expect, it, vi } from "vitest";
import { spyMount, stored } from "../test/helpers.js";
import { Workspace } from "./workspace.js";

describe("construction and mounts", () => {
  it("rejects nested directory mounts at construction, naming both roots", () => {
    expect(() => new Workspace({ mounts: { "/w/a": MemoryMount(), "/w/a/b": MemoryMount() } })).toThrowError(
      /\/w\/a\/b.*\/w\/a|\/w\/a.*\/w\/a\/b/,
    );
  });

  it("applies the same nesting checks to mount() at run time", async () => {
    const ws = new Workspace({ mounts: { "/w/a": MemoryMount() } });
    expect(() => ws.mount("/w/a/b", MemoryMount())).toThrowError(MountError);
    expect(() => ws.mount("/w", MemoryMount())).toThrowError(/nest/);
    ws.mount("/w/c", MemoryMount({ files: { "x.txt": "x" } }));
    expect(await ws.fs.readFile("/w/c/x.txt", "utf8")).toBe("x");
    expect(await ws.fs.readdir("/w")).toEqual(["a", "c"]);
    await ws.close();
  });

  it("rejects relative or unnormalised roots", () => {
    expect(() => new Workspace({ mounts: { "w/a": MemoryMount() } })).toThrowError(/absolute/);
    expect(() => new Workspace({ mounts: { "/w/a/": MemoryMount() } })).toThrowError(/normalised/);
  });

  it("allows a single-file mount inside a directory mount and lets it shadow the outer entry", async () => {
    const outer = spyMount({ files: { "config.json": "outer", "other.txt": "o" } });
    const inner = MemoryMount({ files: { "settings.json": "inner" }, rootType: "file" });
    const diagnostics: string[] = [];
    const ws = new Workspace({ mounts: { "/w": outer, "/w/config.json": inner } });
    ws.on("diagnostic", (d) => diagnostics.push(d.code));
    expect(await ws.fs.readFile("/w/config.json", "utf8")).toBe("inner");
    expect(await ws.fs.readdir("/w")).toEqual(["config.json", "other.txt"]);
    expect(outer.calls.fetch).toBe(0);
    expect(diagnostics).toContain("shadowed");
    await ws.close();
  });

  it("checks nesting that involves a factory with its real rootType, at first index", async () => {
    const fileFactory = () => MemoryMount({ files: { "f.json": "{}" }, rootType: "file" });
    const ok = new Workspace({
      mounts: { "/w": MemoryMount({ files: { a: "a" } }), "/w/f.json": fileFactory },
    });
    expect(await ok.fs.readdir("/w")).toEqual(["a", "f.json"]);
    expect(await ok.fs.readFile("/w/f.json", "utf8")).toBe("{}");
    await ok.close();
    const nested = new Workspace({ mounts: { "/w": MemoryMount(), "/w/d": () => MemoryMount() } });
    await expect(nested.fs.readdir("/w")).rejects.toMatchObject({ code: "EINVAL" });
  });

  it("calls a factory once, on first index, with sessionId, root and vfs", async () => {
    const factory = vi.fn((ctx: MountContext) =>
      MemoryMount({ files: { [`${ctx.sessionId}.txt`]: ctx.root } }),
    );
    const ws = new Workspace({ sessionId: "agent-7", mounts: { "/w/s": factory } });
    expect(factory).not.toHaveBeenCalled();
    await Promise.all([ws.fs.readdir("/w/s"), ws.fs.stat("/w/s"), ws.prefetch()]);
    await ws.fs.readdir("/w/s");
    expect(factory).toHaveBeenCalledTimes(1);
    const ctx = factory.mock.calls[0]![0];
    expect(ctx.sessionId).toBe("agent-7");
    expect(ctx.root).toBe("/w/s");
    expect(ctx.vfs).toBe(ws.fs);
    expect(await ws.fs.readFile("/w/s/agent-7.txt", "utf8")).toBe("/w/s");
    await ws.close();
  });
});

describe("indexing", () => {
  it("indexes every mount exactly once, sharing the pass between concurrent first calls", async () => {
    const a = spyMount({ files: { "1.txt": "1" } });
    const b = spyMount({ files: { "2.txt": "2" } });
    const ws = new Workspace({ mounts: { "/a": a, "/b": b } });
    const events: string[] = [];
    ws.on("index", (e) => events.push(e.root));
    await Promise.all([
      ws.fs.readdir("/a"),
      ws.fs.stat("/b/2.txt"),
      ws.fs.exists("/a/1.txt"),
      ws.prefetch("/a"),
    ]);
    await ws.fs.readdir("/b");
    expect(a.calls.list).toBe(1);
    expect(b.calls.list).toBe(1);
    expect(ws.stats.listCalls).toBe(2);
    expect(events.sort()).toEqual(["/a", "/b"]);
    await ws.close();
  });

  it("a failed list() rejects the call and the next call retries", async () => {
    const a = spyMount({ files: { "1.txt": "1" } });
    a.failures.list = 1;
    const ws = new Workspace({ mounts: { "/a": a } });
    await expect(ws.fs.readdir("/a")).rejects.toThrowError(/list failed/);
    expect(await ws.fs.readdir("/a")).toEqual(["1.txt"]);
    expect(a.calls.list).toBe(2);
    await ws.close();
  });

  it("applies workspace and mount ignore patterns before the index (union)", async () => {
    const m = MemoryMount({
      files: { "keep.txt": "k", "node_modules/x.js": "x", ".cache/y": "y", "a.log": "l" },
      ignore: ["*.log"],
    });
    const ws = new Workspace({ ignore: ["node_modules", ".cache"], mounts: { "/m": m } });
    expect(await ws.fs.readdir("/m")).toEqual(["keep.txt"]);
    expect(await ws.fs.exists("/m/a.log")).toBe(false);
    await expect(ws.fs.readFile("/m/node_modules/x.js")).rejects.toMatchObject({ code: "ENOENT" });
    await expect(ws.fs.writeFile("/m/.cache/z", "z")).rejects.toMatchObject({ code: "EINVAL" });
    await ws.close();
  });

  it("maxEntries: N entries pass, N + 1 fail with EDQUOT", async () => {
    const files = { "a.txt": "a", "b.txt": "b", "c.txt": "c" };
    const ok = new Workspace({ mounts: { "/m": MemoryMount({ files, maxEntries: 3 }) } });
    expect(await ok.fs.readdir("/m")).toHaveLength(3);
    await ok.close();
    const tooMany = new Workspace({ mounts: { "/m": MemoryMount({ files, maxEntries: 2 }) } });
    await expect(tooMany.fs.readdir("/m")).rejects.toMatchObject({
      code: "EDQUOT",
      quota: { limit: "maxEntries", max: 2, observed: 3 },
    });
  });

  it("maxBytes: at the limit passes, one byte over fails before any fetch and leaves the VFS untouched", async () => {
    const atLimit = spyMount({ files: { "a.txt": "12345", "b.txt": "12345" }, maxBytes: 10 });
    const ok = new Workspace({ mounts: { "/m": atLimit } });
    expect(await ok.fs.readdir("/m")).toEqual(["a.txt", "b.txt"]);
    await ok.close();

    const over = spyMount({ files: { "a.txt": "12345", "b.txt": "123456" }, maxBytes: 10 });
    const ws = new Workspace({ mounts: { "/other": MemoryMount({ files: { "o.txt": "o" } }), "/m": over } });
    await expect(ws.fs.readdir("/m")).rejects.toMatchObject({ code: "EDQUOT", root: "/m" });
    expect(over.calls.fetch).toBe(0);
    // Until the failing mount is fixed or unmounted every call reports it; it left nothing behind.
    await expect(ws.fs.readdir("/other")).rejects.toMatchObject({ code: "EDQUOT" });
    await ws.unmount("/m");
    expect(await ws.fs.readdir("/other")).toEqual(["o.txt"]);
    expect(await ws.fs.exists("/m")).toBe(false);
    expect(await ws.fs.readdir("/")).toEqual(["other"]);
  });

  it("skips keys that cannot be paths, with a diagnostic event", async () => {
    const mount = {
      kind: "weird",
      writable: false,
      async list() {
        return [
          { path: "ok.txt", size: 1 },
          { path: "../escape", size: 1 },
          { path: "/abs", size: 1 },
          { path: "bad-size", size: -1 },
        ];
      },
      async fetch() {
        return new Uint8Array([1]);
      },
    };
    const ws = new Workspace({ mounts: { "/m": mount } });
    const codes: string[] = [];
    ws.on("diagnostic", (d) => codes.push(d.code));
    expect(await ws.fs.readdir("/m")).toEqual(["ok.txt"]);
    expect(codes).toEqual(["invalid-path", "invalid-path", "invalid-size"]);
    await ws.close();
  });
});

describe("eager mounts", () => {
  function eager(files: Record<string, string>, opts: { fail?: number; maxBytes?: number } = {}) {
    let failures = opts.fail ?? 0;
    const calls = { materialize: 0 };
    const mount: EagerMount & { calls: typeof calls } = {
      kind: "bundle",
      strategy: "eager",
      writable: false,
      options: opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes },
      calls,
      async materialize(api) {
        calls.materialize++;
        for (const [path, content] of Object.entries(files)) {
          api.writeFile(
            `/e/${path}`,
            new TextEncoder().encode(content),
            path.endsWith(".sh") ? 0o755 : 0o644,
          );
        }
        if (failures-- > 0) throw new Error("clone failed half way");
      },
    };
    return mount;
  }

  it("materializes into the VFS with modes", async () => {
    const ws = new Workspace({ mounts: { "/e": eager({ "run.sh": "#!/bin/sh", "src/a.ts": "a" }) } });
    expect(await ws.fs.readFile("/e/src/a.ts", "utf8")).toBe("a");
    expect((await ws.fs.stat("/e/run.sh")).mode & 0o777).toBe(0o755);
    await expect(ws.fs.writeFile("/e/x", "x")).rejects.toMatchObject({ code: "EROFS" });
    await ws.close();
  });

  it("a failure half way leaves the VFS untouched, and the next call retries", async () => {
    const mount = eager({ "a.txt": "a", "b.txt": "b" }, { fail: 1 });
    const ws = new Workspace({ mounts: { "/e": mount } });
    await expect(ws.fs.readdir("/e")).rejects.toThrowError(/clone failed/);
    expect(mount.calls.materialize).toBe(1);
    expect(await ws.fs.readdir("/e")).toEqual(["a.txt", "b.txt"]);
    expect(mount.calls.materialize).toBe(2);
    await ws.close();
  });

  it("quota is checked in the staging area: EDQUOT and nothing lands", async () => {
    const ws = new Workspace({
      mounts: { "/e": eager({ "a.txt": "aaaa", "b.txt": "bbbb" }, { maxBytes: 5 }) },
    });
    await expect(ws.fs.readdir("/e")).rejects.toMatchObject({ code: "EDQUOT" });
    await expect(ws.fs.readdir("/e")).rejects.toMatchObject({ code: "EDQUOT" });
  });

  it("rejects a materialize write outside its root", async () => {
    const mount: EagerMount = {
      kind: "evil",
      strategy: "eager",
      writable: false,
      async materialize(api) {
        api.writeFile("/etc/passwd", new Uint8Array([1]));
      },
    };
    const ws = new Workspace({ mounts: { "/e": mount } });
    await expect(ws.fs.readdir("/")).rejects.toMatchObject({ code: "EINVAL" });
  });
});

describe("unmount and close", () => {
  it("unmount flushes, disposes and removes the subtree", async () => {
    const m = spyMount({ mode: "read-write", writeBack: "manual" });
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.writeFile("/m/a.txt", "a");
    await ws.unmount("/m");
    expect(stored(m, "a.txt")).toBe("a");
    expect(m.calls.dispose).toBe(1);
    expect(await ws.fs.exists("/m")).toBe(false);
    await ws.close();
    expect(m.calls.dispose).toBe(1);
  });

  it("close() flushes every pending write, then disposes; later calls reject", async () => {
    const m = spyMount({ mode: "read-write", writeBackMs: 60_000 });
    const order: string[] = [];
    const ws = new Workspace({ mounts: { "/m": m } });
    ws.on("put", (e) => order.push(`put ${e.path}`));
    const dispose = m.dispose!.bind(m);
    m.dispose = () => {
      order.push("dispose");
      dispose();
    };
    await ws.fs.writeFile("/m/a.txt", "a");
    await ws.fs.writeFile("/m/b/c.txt", "c").catch(() => ws.fs.mkdir("/m/b"));
    await ws.fs.writeFile("/m/b/c.txt", "c");
    await ws.close();
    expect(stored(m, "a.txt")).toBe("a");
    expect(stored(m, "b/c.txt")).toBe("c");
    expect(order.at(-1)).toBe("dispose");
    await expect(ws.fs.readdir("/")).rejects.toMatchObject({ code: "EIO" });
  });
});
