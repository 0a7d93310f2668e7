import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spyMount, stored } from "../test/helpers.js";
import { FileIndexStore } from "./file-index-store.js";
import { MemoryIndexStore } from "./index-store.js";
import { Workspace } from "./workspace.js";
import type { MountConflict } from "./workspace-options.js";

describe("refreshMount", () => {
  it("applies upstream additions, changes and deletions to stubs and hydrated files", async () => {
    const m = spyMount({
      files: { "same.txt": "s", "changed.txt": "c1", "hydrated.txt": "h1", "gone.txt": "g" },
    });
    const ws = new Workspace({ mounts: { "/m": m } });
    expect(await ws.fs.readFile("/m/hydrated.txt", "utf8")).toBe("h1");
    m.inner.store.put("changed.txt", "c2-longer");
    m.inner.store.put("hydrated.txt", "h2");
    m.inner.store.delete("gone.txt");
    m.inner.store.put("new/added.txt", "a");
    const result = await ws.refreshMount("/m");
    expect(result.added).toEqual(["/m/new/added.txt"]);
    expect(result.changed.sort()).toEqual(["/m/changed.txt", "/m/hydrated.txt"]);
    expect(result.deleted).toEqual(["/m/gone.txt"]);
    expect(result.conflicts).toEqual([]);
    expect(m.calls.list).toBe(2);
    expect((await ws.fs.stat("/m/changed.txt")).size).toBe(9);
    expect(await ws.fs.readFile("/m/hydrated.txt", "utf8")).toBe("h2");
    expect(await ws.fs.readdir("/m")).toEqual(["changed.txt", "hydrated.txt", "new", "same.txt"]);
    await ws.close();
  });

  it("keeps unflushed local writes and reports a conflict where upstream changed the same path", async () => {
    const m = spyMount({
      mode: "read-write",
      writeBack: "manual",
      files: { "a.txt": "base", "b.txt": "base" },
    });
    const conflicts: MountConflict[] = [];
    const ws = new Workspace({ mounts: { "/m": m }, onMountConflict: (c) => void conflicts.push(c) });
    await ws.fs.writeFile("/m/a.txt", "local");
    await ws.fs.writeFile("/m/b.txt", "local");
    m.inner.store.put("a.txt", "upstream");
    const result = await ws.refreshMount("/m");
    expect(result.kept.sort()).toEqual(["/m/a.txt", "/m/b.txt"]);
    expect(result.conflicts.map((c) => c.path)).toEqual(["/m/a.txt"]);
    // The result carries the seed's names too, as the hook and the event do.
    expect(result.conflicts[0]?.doRev).toEqual(result.conflicts[0]?.local);
    expect(result.conflicts[0]?.containerRev).toEqual(result.conflicts[0]?.remote);
    expect(result.conflicts[0]?.containerRev).toMatchObject({ exists: true, size: 8 });
    expect(conflicts).toMatchObject([
      { kind: "refresh", path: "/m/a.txt", remote: { exists: true, size: 8 } },
    ]);
    expect(ws.stats.conflicts).toBe(1);
    expect(await ws.fs.readFile("/m/a.txt", "utf8")).toBe("local");
    await ws.flushMounts();
    expect(stored(m, "a.txt")).toBe("local");
    await ws.close();
  });

  it("keeps our own acknowledged writes and picks up a delete by someone else", async () => {
    const m = spyMount({ mode: "read-write", writeBack: "manual" });
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.writeFile("/m/mine.txt", "mine");
    await ws.fs.writeFile("/m/theirs.txt", "t");
    await ws.flushMounts();
    m.inner.store.delete("theirs.txt");
    const result = await ws.refreshMount("/m");
    expect(result.deleted).toEqual(["/m/theirs.txt"]);
    expect(result.changed).toEqual([]);
    expect(await ws.fs.readdir("/m")).toEqual(["mine.txt"]);
    expect(m.calls.fetch).toBe(0);
    await ws.close();
  });

  it("re-checks quotas and leaves everything as it was on EDQUOT", async () => {
    const m = spyMount({ files: { "a.txt": "a" }, maxEntries: 1 });
    const ws = new Workspace({ mounts: { "/m": m } });
    expect(await ws.fs.readdir("/m")).toEqual(["a.txt"]);
    m.inner.store.put("b.txt", "b");
    await expect(ws.refreshMount("/m")).rejects.toMatchObject({ code: "EDQUOT" });
    expect(await ws.fs.readdir("/m")).toEqual(["a.txt"]);
    await ws.close();
  });
});

describe("index stores", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("with a persistent store, a new Workspace reads without calling list() until refreshMount", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ws-index-"));
    dirs.push(dir);
    const store = new FileIndexStore(dir);
    const first = spyMount({ files: { "a.txt": "a", "d/b.txt": "bb" } });
    const ws1 = new Workspace({ indexStore: store, sessionId: "s1", mounts: { "/m": first } });
    expect(await ws1.fs.readdir("/m")).toEqual(["a.txt", "d"]);
    expect(first.calls.list).toBe(1);
    await ws1.close();

    // "Restart": a new process with a new provider object over the same backend.
    const second = spyMount({ store: first.inner.store });
    const ws2 = new Workspace({
      indexStore: new FileIndexStore(dir),
      sessionId: "s1",
      mounts: { "/m": second },
    });
    const loads: boolean[] = [];
    ws2.on("index", (e) => loads.push(e.fromStore));
    expect(await ws2.fs.readdir("/m")).toEqual(["a.txt", "d"]);
    expect((await ws2.fs.stat("/m/d/b.txt")).size).toBe(2);
    expect(await ws2.fs.readFile("/m/d/b.txt", "utf8")).toBe("bb");
    expect(second.calls.list).toBe(0);
    expect(loads).toEqual([true]);
    expect(ws2.stats.indexLoads).toBe(1);
    await ws2.refreshMount("/m");
    expect(second.calls.list).toBe(1);
    await ws2.close();
  });

  it("saves acknowledged writes, so a restart sees them without a list()", async () => {
    const store = new MemoryIndexStore();
    const first = spyMount({ mode: "read-write", writeBack: "manual", files: { "old.txt": "o" } });
    const ws1 = new Workspace({ indexStore: store, mounts: { "/m": first } });
    await ws1.fs.writeFile("/m/new.txt", "n");
    await ws1.fs.unlink("/m/old.txt");
    await ws1.close();
    const second = spyMount({ mode: "read-write", store: first.inner.store });
    const ws2 = new Workspace({ indexStore: store, mounts: { "/m": second } });
    expect(await ws2.fs.readdir("/m")).toEqual(["new.txt"]);
    expect(await ws2.fs.readFile("/m/new.txt", "utf8")).toBe("n");
    expect(second.calls.list).toBe(0);
    await ws2.close();
  });

  it("a different session or provider kind does not reuse the index", async () => {
    const store = new MemoryIndexStore();
    const a = spyMount({ files: { a: "a" } });
    const ws1 = new Workspace({ indexStore: store, sessionId: "one", mounts: { "/m": a } });
    await ws1.fs.readdir("/m");
    await ws1.close();
    const b = spyMount({ store: a.inner.store });
    const ws2 = new Workspace({ indexStore: store, sessionId: "two", mounts: { "/m": b } });
    await ws2.fs.readdir("/m");
    expect(b.calls.list).toBe(1);
    await ws2.close();
  });

  it("without an indexStore nothing is kept: a root mounted again lists again, and sees what changed", async () => {
    const a = spyMount({ mode: "read-write", files: { a: "a" } });
    const ws = new Workspace({ mounts: { "/m": a } });
    expect(await ws.fs.readdir("/m")).toEqual(["a"]);
    await ws.unmount("/m");
    await a.inner.put("b", new TextEncoder().encode("b"));
    ws.mount("/m", a);
    // A store private to the workspace used to answer here with the old listing (no "b").
    expect(await ws.fs.readdir("/m")).toEqual(["a", "b"]);
    expect(a.calls.list).toBe(2);
    expect(ws.stats.indexLoads).toBe(0);
    await ws.close();
  });

  it("FileIndexStore ignores a corrupt file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ws-index-"));
    dirs.push(dir);
    const store = new FileIndexStore(dir);
    const key = { sessionId: "s", root: "/m", kind: "memory" };
    await store.save(key, { kind: "memory", entries: [{ path: "a", size: 1, etag: "e" }], indexedAt: 5 });
    expect(await store.load(key)).toEqual({
      kind: "memory",
      entries: [{ path: "a", size: 1, etag: "e" }],
      indexedAt: 5,
    });
    const { writeFile } = await import("node:fs/promises");
    await writeFile(store.fileFor(key), "{not json");
    expect(await store.load(key)).toBeUndefined();
    await store.delete(key);
    expect(await store.load(key)).toBeUndefined();
  });
});
