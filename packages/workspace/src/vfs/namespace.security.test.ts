import { MemoryMount, MountError } from "@ws/core";
import { describe, expect, it } from "vitest";
import { spyMount, stored } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";

function setup() {
  const rw = spyMount({ mode: "read-write", writeBack: "manual", files: { "a.txt": "a", "d/b.txt": "b" } });
  const ro = spyMount({ files: { "r.txt": "r" } });
  const ws = new Workspace({
    mounts: { "/w/rw": rw, "/data/ro": ro, "/q": MemoryMount({ mode: "read-write", maxEntries: 1 }) },
  });
  return { ws, rw, ro };
}

describe("ownership is decided on the real path, after following symlinks", () => {
  it("a write through a link into a read-only mount throws EROFS naming that mount", async () => {
    const { ws } = setup();
    await ws.fs.mkdir("/scratch");
    await ws.fs.symlink("/data/ro", "/scratch/l");
    await expect(ws.fs.writeFile("/scratch/l/x.txt", "y")).rejects.toMatchObject({
      code: "EROFS",
      root: "/data/ro",
    });
    await expect(ws.fs.mkdir("/scratch/l/dir")).rejects.toMatchObject({ code: "EROFS" });
    await expect(ws.fs.unlink("/scratch/l/r.txt")).rejects.toMatchObject({ code: "EROFS" });
    await expect(ws.fs.rm("/scratch/l", { recursive: true })).resolves.toBeUndefined(); // the link only
    expect(await ws.fs.readFile("/data/ro/r.txt", "utf8")).toBe("r");
    expect(await ws.fs.exists("/data/ro/x.txt")).toBe(false);
    await ws.close();
  });

  it("a link to a file in a read-only mount cannot be written through either", async () => {
    const { ws } = setup();
    await ws.fs.symlink("/data/ro/r.txt", "/link.txt");
    expect(await ws.fs.readFile("/link.txt", "utf8")).toBe("r");
    await expect(ws.fs.writeFile("/link.txt", "changed")).rejects.toMatchObject({ code: "EROFS" });
    await expect(ws.fs.appendFile("/link.txt", "more")).rejects.toMatchObject({ code: "EROFS" });
    await expect(ws.fs.chmod("/link.txt", 0o600)).rejects.toMatchObject({ code: "EROFS" });
    expect(await ws.fs.readFile("/data/ro/r.txt", "utf8")).toBe("r");
    await ws.close();
  });

  it("a write through a link into a read-write mount is put, and counts against its quota", async () => {
    const { ws, rw } = setup();
    await ws.fs.symlink("/w/rw/d", "/into");
    await ws.fs.writeFile("/into/new.txt", "via link");
    await ws.flushMounts();
    expect(stored(rw, "d/new.txt")).toBe("via link");
    await ws.fs.symlink("/q", "/qlink");
    await ws.fs.writeFile("/qlink/one.txt", "1");
    await expect(ws.fs.writeFile("/qlink/two.txt", "2")).rejects.toMatchObject({
      code: "EDQUOT",
      root: "/q",
    });
    await ws.close();
  });

  it("rm -r through a link to a parent of mount roots deletes upstream, and the root stays", async () => {
    const { ws, rw } = setup();
    await ws.fs.symlink("/w", "/wl");
    await ws.fs.rm("/wl/rw", { recursive: true });
    await ws.flushMounts();
    expect([...rw.inner.store.keys()]).toEqual([]);
    expect(rw.log.sort()).toEqual(["delete a.txt", "delete d/b.txt"]);
    expect((await ws.fs.stat("/w/rw")).isDirectory()).toBe(true);
    await ws.close();
  });

  it("a mount root is never replaced or removed, directly or through a link", async () => {
    const { ws, rw } = setup();
    await ws.fs.symlink("/w", "/wl");
    await expect(ws.fs.writeFile("/wl/rw", "a file")).rejects.toMatchObject({ code: "EISDIR" });
    await expect(ws.fs.unlink("/wl/rw")).rejects.toMatchObject({ code: "EISDIR" });
    await expect(ws.fs.rmdir("/wl/rw")).rejects.toMatchObject({ code: "EBUSY" });
    await expect(ws.fs.rename("/w/rw/a.txt", "/wl/rw")).rejects.toMatchObject({ code: "EBUSY" });
    await expect(ws.fs.rename("/wl/rw", "/elsewhere")).rejects.toMatchObject({ code: "EBUSY" });
    await expect(ws.fs.symlink("/tmp", "/w/rw")).rejects.toMatchObject({ code: "ENOTSUP" });
    await ws.fs.rm("/w", { recursive: true });
    expect((await ws.fs.stat("/w/rw")).isDirectory()).toBe(true);
    // Nothing unflushable was scheduled: flush and close succeed.
    await ws.flushMounts();
    expect(rw.log.sort()).toEqual(["delete a.txt", "delete d/b.txt"]);
    await ws.close();
  });

  it("a symlink loop is ELOOP, as a MountError", async () => {
    const { ws } = setup();
    await ws.fs.symlink("/b", "/a");
    await ws.fs.symlink("/a", "/b");
    const failure = await ws.fs.writeFile("/a/x", "x").catch((e: unknown) => e);
    expect(MountError.isInstance(failure)).toBe(true);
    expect(failure).toMatchObject({ code: "ELOOP" });
    await ws.close();
  });
});
