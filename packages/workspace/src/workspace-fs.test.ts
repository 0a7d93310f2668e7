import { MemoryMount, MountError } from "@ws/core";
import { describe, expect, it } from "vitest";
import { spyMount } from "../test/helpers.js";
import { Workspace } from "./workspace.js";

function setup() {
  const ro = spyMount({ files: { "a.md": "# A", "dir/b.txt": "bee", "dir/sub/c.txt": "sea" } });
  const rw = spyMount({ mode: "read-write", writeBack: "manual", files: { "old.txt": "old" } });
  const ws = new Workspace({ mounts: { "/workspace/docs": ro, "/workspace/out": rw } });
  return { ro, rw, ws };
}

describe("ws.fs reads", () => {
  it("lists mount roots as directories in their parents", async () => {
    const { ws } = setup();
    expect(await ws.fs.readdir("/")).toEqual(["workspace"]);
    const entries = await ws.fs.readdir("/workspace", { withFileTypes: true });
    expect(entries.map((e) => [e.name, e.isDirectory(), e.parentPath])).toEqual([
      ["docs", true, "/workspace"],
      ["out", true, "/workspace"],
    ]);
    expect((await ws.fs.stat("/workspace")).isDirectory()).toBe(true);
    expect((await ws.fs.stat("/workspace/docs")).isDirectory()).toBe(true);
  });

  it("stat of a stub never fetches and reports size, mtime and mode from the listing", async () => {
    const { ws, ro } = setup();
    const st = await ws.fs.stat("/workspace/docs/dir/b.txt");
    expect(st.isFile()).toBe(true);
    expect(st.size).toBe(3);
    expect(st.mtimeMs).toBe(ro.inner.store.get("dir/b.txt")!.mtime);
    expect(st.mode & 0o777).toBe(0o644);
    await ws.fs.lstat("/workspace/docs/a.md");
    await ws.fs.access("/workspace/docs/a.md");
    expect(await ws.fs.exists("/workspace/docs/dir/sub/c.txt")).toBe(true);
    expect(ro.calls.fetch).toBe(0);
    const dirents = await ws.fs.readdir("/workspace/docs", { withFileTypes: true });
    expect(dirents.map((d) => [d.name, d.isFile()])).toEqual([
      ["a.md", true],
      ["dir", false],
    ]);
    expect(ro.calls.fetch).toBe(0);
  });

  it("the first read fetches once; later reads come from the VFS", async () => {
    const { ws, ro } = setup();
    const events: string[] = [];
    ws.on("fetch", (e) => events.push(e.path));
    expect(await ws.fs.readFile("/workspace/docs/a.md", "utf8")).toBe("# A");
    const bytes = await ws.fs.readFile("/workspace/docs/a.md");
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(bytes).toString()).toBe("# A");
    expect(ro.calls.fetch).toBe(1);
    expect(ws.stats.fetches).toBe(1);
    expect(ws.stats.bytesIn).toBe(3);
    expect(events).toEqual(["/workspace/docs/a.md"]);
  });

  it("20 concurrent reads of one stub share one fetch", async () => {
    const { ws, ro } = setup();
    await ws.fs.stat("/"); // index first, so every read below races on the fetch only
    let open!: () => void;
    ro.fetchGate = new Promise((resolve) => {
      open = resolve;
    });
    const reads = Array.from({ length: 20 }, () => ws.fs.readFile("/workspace/docs/dir/b.txt", "utf8"));
    await new Promise((resolve) => setTimeout(resolve, 5));
    open();
    expect(await Promise.all(reads)).toEqual(Array(20).fill("bee"));
    expect(ro.calls.fetch).toBe(1);
    expect(ws.stats.dedupHits).toBe(19);
  });

  it("a failed fetch rejects with the cause, leaves the stub, and the next read retries", async () => {
    const { ws, ro } = setup();
    ro.failures.fetch = 1;
    const errors: unknown[] = [];
    ws.on("error", (e) => errors.push(e.error));
    const failure = await ws.fs.readFile("/workspace/docs/a.md").catch((e: unknown) => e);
    expect(MountError.isInstance(failure)).toBe(true);
    expect(failure).toMatchObject({ code: "EIO", path: "/workspace/docs/a.md", root: "/workspace/docs" });
    expect((failure as Error).cause).toBeInstanceOf(Error);
    expect(errors).toHaveLength(1);
    expect((await ws.fs.stat("/workspace/docs/a.md")).size).toBe(3);
    expect(await ws.fs.readFile("/workspace/docs/a.md", "utf8")).toBe("# A");
    expect(ro.calls.fetch).toBe(2);
  });

  it("prefetch hydrates with progress, and reads then need no fetch", async () => {
    const { ws, ro } = setup();
    const progress: number[] = [];
    const result = await ws.prefetch("/workspace/docs", { onProgress: (p) => progress.push(p.done) });
    expect(result).toMatchObject({ files: 3, bytes: 9, failed: [] });
    expect(progress).toEqual([1, 2, 3]);
    expect(ro.calls.fetch).toBe(3);
    await ws.fs.readFile("/workspace/docs/dir/sub/c.txt");
    expect(ro.calls.fetch).toBe(3);
    await expect(ws.prefetch("/nope")).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("raises Node-style errors with code, errno, path and syscall", async () => {
    const { ws } = setup();
    await expect(ws.fs.readFile("/workspace/docs/missing")).rejects.toMatchObject({
      code: "ENOENT",
      errno: -2,
      path: "/workspace/docs/missing",
      syscall: "open",
    });
    await expect(ws.fs.readFile("/workspace/docs/dir")).rejects.toMatchObject({ code: "EISDIR" });
    await expect(ws.fs.readdir("/workspace/docs/a.md")).rejects.toMatchObject({
      code: "ENOTDIR",
      syscall: "scandir",
    });
    await expect(ws.fs.stat("/nothing")).rejects.toMatchObject({ code: "ENOENT", syscall: "stat" });
    await expect(ws.fs.mkdir("/workspace/out/x/y")).rejects.toMatchObject({ code: "ENOENT" });
    await expect(ws.fs.rm("/workspace/out")).rejects.toMatchObject({ code: "EISDIR" });
    await expect(ws.fs.rmdir("/workspace/out")).rejects.toMatchObject({ code: "EBUSY" });
    await expect(ws.fs.writeFile("/workspace/out/none/x.txt", "x")).rejects.toMatchObject({ code: "ENOENT" });
    expect(await ws.fs.exists("/nothing")).toBe(false);
  });
});

describe("ws.fs writes", () => {
  it("every mutating call under a read-only mount throws EROFS", async () => {
    const { ws, ro } = setup();
    const erofs = { code: "EROFS", root: "/workspace/docs" };
    await expect(ws.fs.writeFile("/workspace/docs/a.md", "x")).rejects.toMatchObject(erofs);
    await expect(ws.fs.writeFile("/workspace/docs/new.md", "x")).rejects.toMatchObject(erofs);
    await expect(ws.fs.appendFile("/workspace/docs/a.md", "x")).rejects.toMatchObject(erofs);
    await expect(ws.fs.mkdir("/workspace/docs/d")).rejects.toMatchObject(erofs);
    await expect(ws.fs.rm("/workspace/docs/a.md")).rejects.toMatchObject(erofs);
    await expect(ws.fs.unlink("/workspace/docs/a.md")).rejects.toMatchObject(erofs);
    await expect(ws.fs.rm("/workspace/docs/dir", { recursive: true })).rejects.toMatchObject(erofs);
    await expect(ws.fs.rm("/workspace", { recursive: true })).rejects.toMatchObject(erofs);
    await expect(ws.fs.rename("/workspace/docs/a.md", "/workspace/out/a.md")).rejects.toMatchObject(erofs);
    await expect(ws.fs.rename("/workspace/out/old.txt", "/workspace/docs/old.txt")).rejects.toMatchObject(
      erofs,
    );
    await expect(ws.fs.copyFile("/workspace/out/old.txt", "/workspace/docs/c.txt")).rejects.toMatchObject(
      erofs,
    );
    await expect(ws.fs.chmod("/workspace/docs/a.md", 0o600)).rejects.toMatchObject(erofs);
    await expect(ws.fs.access("/workspace/docs/a.md", 2)).rejects.toMatchObject(erofs);
    // Nothing changed anywhere: the rm of the parent refused before removing the rw files.
    expect(await ws.fs.readFile("/workspace/out/old.txt", "utf8")).toBe("old");
    expect(await ws.fs.readdir("/workspace/docs")).toEqual(["a.md", "dir"]);
    expect(ro.inner.store.keys()).toEqual(["a.md", "dir/b.txt", "dir/sub/c.txt"]);
  });

  it("writes, appends, copies and renames in a read-write mount and plain paths", async () => {
    const { ws } = setup();
    await ws.fs.mkdir("/tmp/a/b", { recursive: true });
    await ws.fs.writeFile("/tmp/a/b/f.txt", "one");
    await ws.fs.appendFile("/tmp/a/b/f.txt", "+two");
    expect(await ws.fs.readFile("/tmp/a/b/f.txt", "utf8")).toBe("one+two");
    await ws.fs.appendFile("/workspace/out/old.txt", "+more");
    expect(await ws.fs.readFile("/workspace/out/old.txt", "utf8")).toBe("old+more");
    await ws.fs.copyFile("/workspace/docs/a.md", "/workspace/out/copy.md");
    expect(await ws.fs.readFile("/workspace/out/copy.md", "utf8")).toBe("# A");
    await ws.fs.rename("/workspace/out/copy.md", "/workspace/out/moved.md");
    expect(await ws.fs.exists("/workspace/out/copy.md")).toBe(false);
    expect(await ws.fs.readdir("/workspace/out")).toEqual(["moved.md", "old.txt"]);
    await ws.fs.rm("/tmp", { recursive: true });
    expect(await ws.fs.exists("/tmp")).toBe(false);
    await ws.fs.writeFile("/workspace/out/mode.sh", "#!/bin/sh", { mode: 0o755 });
    expect((await ws.fs.stat("/workspace/out/mode.sh")).mode & 0o777).toBe(0o755);
    await expect(ws.fs.writeFile("/workspace/out/old.txt", "x", { flag: "wx" })).rejects.toMatchObject({
      code: "EEXIST",
    });
  });

  it("symlinks work in plain paths and are refused under mounts", async () => {
    const { ws } = setup();
    await ws.fs.mkdir("/plain");
    await ws.fs.writeFile("/plain/t.txt", "t");
    await ws.fs.symlink("t.txt", "/plain/l");
    expect(await ws.fs.readlink("/plain/l")).toBe("t.txt");
    expect((await ws.fs.lstat("/plain/l")).isSymbolicLink()).toBe(true);
    await expect(ws.fs.symlink("x", "/workspace/out/l")).rejects.toMatchObject({ code: "ENOTSUP" });
  });

  it("satisfies the VFS a factory receives", async () => {
    const ws = new Workspace({
      mounts: { "/m": MemoryMount({ mode: "read-write", files: { "x.txt": "x" } }) },
    });
    const vfs: import("@ws/core").VFS = ws.fs;
    expect(await vfs.readdir("/m")).toEqual(["x.txt"]);
    await ws.close();
  });
});
