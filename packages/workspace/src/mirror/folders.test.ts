import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodePosixMetadata, MemoryMount, MemoryStore } from "@ws/core";
import { describe, expect, it } from "vitest";
import { FileIndexStore } from "../file-index-store.js";
import { Workspace } from "../workspace.js";

// Issue 17: folders under a mount that keeps them (directory markers) keep their mode; folders
// that appear upstream appear on refresh; ws.fs.symlink works where the mount stores links.
const mountOver = (store: MemoryStore) => () =>
  MemoryMount({ mode: "read-write", store, directoryMarkers: true, symlinks: true });

const modeOf = (store: MemoryStore, key: string): number | undefined =>
  decodePosixMetadata(store.get(key)?.meta).mode;

describe("folders under a mount with directory markers", () => {
  it("a folder's mode (0700, 0555 with files inside) survives an exec round trip, never widened", async () => {
    const store = new MemoryStore();
    const ws = new Workspace({ mounts: { "/m": mountOver(store) } });
    const r = await ws.exec("sh", [
      "-c",
      "cd m && mkdir -p private/inner ro && chmod 700 private && echo a > ro/a && chmod 555 ro",
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.changes.errors).toEqual([]);
    expect(r.changes.notMirrored).toEqual([]);
    await ws.close();
    // s3fs's form: the whole st_mode, directory type bits included.
    expect(modeOf(store, "private/")).toBe(0o040700);
    expect(modeOf(store, "ro/")).toBe(0o040555);
    expect(new TextDecoder().decode(store.get("ro/a")?.bytes)).toBe("a\n");
    const ws2 = new Workspace({ mounts: { "/m": mountOver(store) } });
    expect((await ws2.fs.stat("/m/private")).mode & 0o7777).toBe(0o700);
    expect((await ws2.fs.stat("/m/ro")).mode & 0o7777).toBe(0o555);
    const back = await ws2.exec("sh", ["-c", "stat -c '%a %n' m/private m/private/inner m/ro m/ro/a"], {
      hydrate: true,
    });
    expect(back.stdout).toBe("700 m/private\n755 m/private/inner\n555 m/ro\n644 m/ro/a\n");
    await ws2.close();
  });

  it("a later exec's chmod of an existing folder (made here or known only from stubs) is stored", async () => {
    const store = new MemoryStore({ "stubs/only/f.txt": "f" });
    const ws = new Workspace({ mounts: { "/m": mountOver(store) } });
    expect((await ws.exec("sh", ["-c", "mkdir m/made"])).changes.errors).toEqual([]);
    await ws.flushMounts();
    const r = await ws.exec("sh", ["-c", "chmod 700 m/made && chmod 750 m/stubs"]);
    expect(r.changes.errors).toEqual([]);
    expect((await ws.fs.stat("/m/made")).mode & 0o7777).toBe(0o700);
    await ws.close();
    expect(modeOf(store, "made/")).toBe(0o040700);
    expect(modeOf(store, "stubs/")).toBe(0o040750);
    const ws2 = new Workspace({ mounts: { "/m": mountOver(store) } });
    const back = await ws2.exec("sh", ["-c", "stat -c '%a %n' m/made m/stubs m/stubs/only"]);
    expect(back.stdout).toBe("700 m/made\n750 m/stubs\n755 m/stubs/only\n");
    await ws2.close();
  });

  it("ws.fs.mkdir with a mode and ws.fs.chmod of a folder are stored", async () => {
    const store = new MemoryStore();
    const ws = new Workspace({ mounts: { "/m": mountOver(store) } });
    await ws.fs.mkdir("/m/a", { mode: 0o700 });
    await ws.fs.mkdir("/m/b/c", { recursive: true });
    await ws.fs.writeFile("/m/b/c/f.txt", "f");
    await ws.flushMounts();
    expect(modeOf(store, "a/")).toBe(0o040700);
    await ws.fs.chmod("/m/b", 0o555);
    await ws.close();
    expect(modeOf(store, "b/")).toBe(0o040555);
    const ws2 = new Workspace({ mounts: { "/m": mountOver(store) } });
    expect((await ws2.fs.stat("/m/a")).mode & 0o7777).toBe(0o700);
    expect((await ws2.fs.stat("/m/b")).mode & 0o7777).toBe(0o555);
    expect((await ws2.fs.stat("/m/b/c")).mode & 0o7777).toBe(0o755);
    expect(await ws2.fs.readFile("/m/b/c/f.txt", "utf8")).toBe("f");
    await ws2.close();
  });

  it("refreshMount creates folders that appeared upstream (new markers), with their modes", async () => {
    const store = new MemoryStore();
    const ws = new Workspace({ mounts: { "/m": mountOver(store) } });
    expect(await ws.fs.readdir("/m")).toEqual([]);
    const other = mountOver(store)();
    await other.mkdir?.("new/empty", { mode: 0o700 });
    await other.mkdir?.("plain");
    await ws.refreshMount("/m");
    expect(await ws.fs.readdir("/m")).toEqual(["new", "plain"]);
    expect(await ws.fs.readdir("/m/new")).toEqual(["empty"]);
    expect((await ws.fs.stat("/m/new/empty")).isDirectory()).toBe(true);
    expect((await ws.fs.stat("/m/new/empty")).mode & 0o7777).toBe(0o700);
    // Markers removed upstream: the empty folders go too; one holding a local file stays.
    await ws.fs.writeFile("/m/plain/mine.txt", "mine");
    await ws.flushMounts();
    await other.rmdir?.("new/empty");
    await other.rmdir?.("plain");
    await ws.refreshMount("/m");
    expect(await ws.fs.readdir("/m/new")).toEqual([]);
    expect(await ws.fs.readdir("/m/plain")).toEqual(["mine.txt"]);
    await ws.close();
  });
});

describe("folders in a persistent index store", () => {
  it("a workspace that loads its index from the store (no listing) still has the kept folders, with their modes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ws-folders-index-"));
    try {
      const store = new MemoryStore({ "a.txt": "a" });
      const ws = new Workspace({ mounts: { "/m": mountOver(store) }, indexStore: new FileIndexStore(dir) });
      await ws.fs.mkdir("/m/empty", { mode: 0o700 });
      await ws.fs.writeFile("/m/b.txt", "b");
      await ws.close();
      const ws2 = new Workspace({ mounts: { "/m": mountOver(store) }, indexStore: new FileIndexStore(dir) });
      expect(await ws2.fs.readdir("/m")).toEqual(["a.txt", "b.txt", "empty"]);
      expect(ws2.stats.listCalls).toBe(0);
      expect((await ws2.fs.stat("/m/empty")).mode & 0o7777).toBe(0o700);
      await ws2.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("ws.fs.symlink under a mount", () => {
  it("is stored verbatim where the mount declares symlinks: true, and comes back as a link", async () => {
    const store = new MemoryStore();
    const ws = new Workspace({ mounts: { "/m": mountOver(store) } });
    await ws.fs.mkdir("/m/venv/bin", { recursive: true });
    await ws.fs.symlink("/usr/bin/python3", "/m/venv/bin/python");
    await ws.fs.symlink("../tool/cli.js", "/m/tool-link");
    expect(await ws.fs.readlink("/m/venv/bin/python")).toBe("/usr/bin/python3");
    await expect(ws.fs.symlink("x", "/m/tool-link")).rejects.toMatchObject({ code: "EEXIST" });
    await ws.close();
    expect(new TextDecoder().decode(store.get("venv/bin/python")?.bytes)).toBe("/usr/bin/python3");
    expect(modeOf(store, "venv/bin/python")).toBe(0o120777);
    const ws2 = new Workspace({ mounts: { "/m": mountOver(store) } });
    // readlink of what the listing showed as a file: read first, it is a link.
    expect(await ws2.fs.readlink("/m/tool-link")).toBe("../tool/cli.js");
    await expect(ws2.fs.readlink("/m/venv")).rejects.toMatchObject({ code: "EINVAL" });
    const back = await ws2.exec("sh", ["-c", "readlink m/venv/bin/python m/tool-link"], { hydrate: true });
    expect(back.stdout).toBe("/usr/bin/python3\n../tool/cli.js\n");
    await ws2.close();
  });

  it("reading through a link that is still a stub fetches the link, then its target", async () => {
    const store = new MemoryStore();
    const ws = new Workspace({ mounts: { "/m": mountOver(store) } });
    await ws.fs.mkdir("/m/docs", { recursive: true });
    await ws.fs.writeFile("/m/docs/guide.md", "guide");
    await ws.fs.symlink("docs/guide.md", "/m/latest");
    await ws.fs.symlink("docs", "/m/d");
    await ws.close();
    const ws2 = new Workspace({ mounts: { "/m": mountOver(store) } });
    expect(await ws2.fs.readFile("/m/latest", "utf8")).toBe("guide");
    expect(await ws2.fs.readFile("/m/d/guide.md", "utf8")).toBe("guide");
    await ws2.close();
  });

  it("stays ENOTSUP, with a clear message, under a mount that does not store links; EROFS under a read-only one", async () => {
    const ws = new Workspace({
      mounts: {
        "/plain": MemoryMount({ mode: "read-write" }),
        "/ro": MemoryMount({ symlinks: true }),
      },
    });
    await expect(ws.fs.symlink("/etc/passwd", "/plain/l")).rejects.toMatchObject({
      code: "ENOTSUP",
      message: expect.stringMatching(/does not store symbolic links/),
    });
    await expect(ws.fs.symlink("/etc/passwd", "/ro/l")).rejects.toMatchObject({ code: "EROFS" });
    await ws.close();
  });
});
