import { MountError } from "@ws/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fastRetry, spyMount, stored } from "../test/helpers.js";
import { Workspace } from "./workspace.js";
import type { MountConflict } from "./workspace-options.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("debounced write-back", () => {
  it("12 writes in a burst become exactly 1 put, of the final state", async () => {
    vi.useFakeTimers();
    const m = spyMount({ mode: "read-write" });
    const ws = new Workspace({ mounts: { "/m": m } });
    for (let i = 1; i <= 12; i++) {
      await ws.fs.writeFile("/m/manifest.json", `{"v":${i}}`);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(m.calls.put).toBe(0);
    await vi.advanceTimersByTimeAsync(500);
    expect(m.calls.put).toBe(1);
    expect(stored(m, "manifest.json")).toBe('{"v":12}');
    expect(ws.stats.coalescedWrites).toBe(11);
    expect(ws.stats.puts).toBe(1);
    await ws.close();
  });

  it("uses writeBackMs per mount", async () => {
    vi.useFakeTimers();
    const m = spyMount({ mode: "read-write", writeBackMs: 2000 });
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.writeFile("/m/a", "a");
    await vi.advanceTimersByTimeAsync(1999);
    expect(m.calls.put).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(m.calls.put).toBe(1);
    await ws.close();
  });

  it("writes the VFS first: reads see the new bytes before the provider does", async () => {
    vi.useFakeTimers();
    const m = spyMount({ mode: "read-write", files: { "a.txt": "old" } });
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.writeFile("/m/a.txt", "new");
    expect(await ws.fs.readFile("/m/a.txt", "utf8")).toBe("new");
    expect(stored(m, "a.txt")).toBe("old");
    await vi.advanceTimersByTimeAsync(500);
    expect(stored(m, "a.txt")).toBe("new");
    await ws.close();
  });

  it("a write then a delete in one window collapses to one delete", async () => {
    vi.useFakeTimers();
    const m = spyMount({ mode: "read-write", files: { "a.txt": "old" } });
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.writeFile("/m/a.txt", "new");
    await ws.fs.rm("/m/a.txt");
    await vi.advanceTimersByTimeAsync(500);
    expect(m.log).toEqual(["delete a.txt"]);
    expect(m.inner.store.has("a.txt")).toBe(false);
    await ws.close();
  });

  it("mkdir touches the VFS only", async () => {
    vi.useFakeTimers();
    const m = spyMount({ mode: "read-write" });
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.mkdir("/m/a/b", { recursive: true });
    await vi.advanceTimersByTimeAsync(1000);
    await ws.flushMounts();
    expect(m.calls.put + m.calls.delete).toBe(0);
    expect((await ws.fs.stat("/m/a/b")).isDirectory()).toBe(true);
    await ws.close();
  });

  it("rm -r of a folder deletes each file, stubs included, without fetching them", async () => {
    const m = spyMount({
      mode: "read-write",
      writeBack: "manual",
      files: { "d/a": "a", "d/e/b": "b", keep: "k" },
    });
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.rm("/m/d", { recursive: true });
    expect(await ws.fs.readdir("/m")).toEqual(["keep"]);
    await ws.flushMounts("/m");
    expect(m.calls.fetch).toBe(0);
    expect(m.inner.store.keys()).toEqual(["keep"]);
    await ws.close();
  });

  it("rename is put-new then delete-old", async () => {
    const m = spyMount({
      mode: "read-write",
      writeBack: "manual",
      files: { "dir/a.txt": "a", "dir/b.txt": "b" },
    });
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.rename("/m/dir", "/m/moved");
    expect(await ws.fs.readdir("/m/moved")).toEqual(["a.txt", "b.txt"]);
    await ws.flushMounts();
    expect(m.log.slice(0, 2).every((l) => l.startsWith("put moved/"))).toBe(true);
    expect(m.log.slice(2).every((l) => l.startsWith("delete dir/"))).toBe(true);
    expect(m.inner.store.keys()).toEqual(["moved/a.txt", "moved/b.txt"]);
    await ws.close();
  });
});

describe("manual write-back", () => {
  it("holds writes until flushMounts(), which resolves once the provider acknowledged", async () => {
    vi.useFakeTimers();
    const m = spyMount({ mode: "read-write", writeBack: "manual" });
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.writeFile("/m/a.txt", "a");
    await ws.fs.writeFile("/m/a.txt", "b");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(m.calls.put).toBe(0);
    await ws.flushMounts("/m");
    expect(m.calls.put).toBe(1);
    expect(stored(m, "a.txt")).toBe("b");
    await ws.close();
  });
});

describe("quota on writes", () => {
  it("a write that would exceed maxBytes or maxEntries fails with EDQUOT and changes nothing", async () => {
    const m = spyMount({
      mode: "read-write",
      writeBack: "manual",
      files: { a: "12345" },
      maxBytes: 8,
      maxEntries: 2,
    });
    const ws = new Workspace({ mounts: { "/m": m } });
    await expect(ws.fs.writeFile("/m/b", "1234")).rejects.toMatchObject({
      code: "EDQUOT",
      quota: { limit: "maxBytes" },
    });
    expect(await ws.fs.exists("/m/b")).toBe(false);
    await ws.fs.writeFile("/m/b", "123");
    await expect(ws.fs.writeFile("/m/c", "")).rejects.toMatchObject({
      code: "EDQUOT",
      quota: { limit: "maxEntries" },
    });
    // Replacing a file counts the difference only.
    await ws.fs.writeFile("/m/a", "1");
    await ws.fs.writeFile("/m/b", "1234567");
    await ws.flushMounts();
    expect(m.inner.store.keys()).toEqual(["a", "b"]);
    await ws.close();
  });
});

describe("failures, retries and close", () => {
  it("a put that fails 3 times then succeeds lands, with retry events", async () => {
    const m = spyMount({ mode: "read-write", writeBack: "manual" });
    m.failures.put = 3;
    const ws = new Workspace({ mounts: { "/m": m }, retry: fastRetry });
    const retries: number[] = [];
    ws.on("retry", (e) => retries.push(e.attempt));
    const puts: string[] = [];
    ws.on("put", (e) => puts.push(e.path));
    await ws.fs.writeFile("/m/a.txt", "a");
    await ws.flushMounts();
    expect(stored(m, "a.txt")).toBe("a");
    expect(retries).toEqual([1, 2, 3]);
    expect(puts).toEqual(["/m/a.txt"]);
    expect(ws.stats.retries).toBe(3);
    expect(m.calls.put).toBe(4);
    await ws.close();
  });

  it("a put that keeps failing keeps the VFS row, emits error and conflict, and flush rejects; nothing dropped", async () => {
    const m = spyMount({ mode: "read-write", writeBack: "manual" });
    m.failures.put = 100;
    const conflicts: MountConflict[] = [];
    const ws = new Workspace({
      mounts: { "/m": m },
      retry: { retries: 2, minDelayMs: 1, maxDelayMs: 1 },
      onMountConflict: (c) => {
        conflicts.push(c);
        return "accept";
      },
    });
    const errors: string[] = [];
    ws.on("error", (e) => errors.push(`${e.op} ${e.path}`));
    await ws.fs.writeFile("/m/a.txt", "a");
    const failure = await ws.flushMounts().catch((e: unknown) => e);
    expect(MountError.hasCode(failure, "EIO")).toBe(true);
    expect(String(failure)).toContain("/m/a.txt");
    expect(errors).toEqual(["put /m/a.txt"]);
    expect(conflicts).toMatchObject([{ kind: "write-failed", path: "/m/a.txt" }]);
    expect(await ws.fs.readFile("/m/a.txt", "utf8")).toBe("a");
    expect(m.calls.put).toBe(3);
    // The provider recovers: the next flush lands the write.
    m.failures.put = 0;
    await ws.flushMounts();
    expect(stored(m, "a.txt")).toBe("a");
    await ws.close();
  });

  it("does not retry errors no retry can fix (EROFS from the provider)", async () => {
    const m = spyMount({ mode: "read-write", writeBack: "manual" });
    m.put = async () => {
      throw new MountError("EROFS", "bucket is read-only");
    };
    const ws = new Workspace({ mounts: { "/m": m }, retry: fastRetry });
    await ws.fs.writeFile("/m/a", "a");
    await expect(ws.flushMounts()).rejects.toMatchObject({ code: "EIO" });
    expect(ws.stats.retries).toBe(0);
    await expect(ws.close()).rejects.toMatchObject({ code: "EIO" });
  });

  it("close() with pending debounced and manual writes lands them all", async () => {
    const a = spyMount({ mode: "read-write", writeBackMs: 60_000 });
    const b = spyMount({ mode: "read-write", writeBack: "manual", files: { "gone.txt": "x" } });
    const ws = new Workspace({ mounts: { "/a": a, "/b": b } });
    for (let i = 0; i < 10; i++) await ws.fs.writeFile(`/a/f${i}.txt`, `${i}`);
    await ws.fs.writeFile("/b/new.txt", "n");
    await ws.fs.unlink("/b/gone.txt");
    await ws.close();
    expect(a.inner.store.keys()).toHaveLength(10);
    expect(stored(a, "f9.txt")).toBe("9");
    expect(b.inner.store.keys()).toEqual(["new.txt"]);
    expect(a.calls.dispose + b.calls.dispose).toBe(2);
  });
});
