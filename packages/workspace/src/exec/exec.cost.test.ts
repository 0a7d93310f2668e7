import { MemoryMount, MemoryStore } from "@ws/core";
import { describe, expect, it } from "vitest";
import { spyMount } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";

function bigStore(count: number): MemoryStore {
  const store = new MemoryStore();
  const bytes = new TextEncoder().encode("x");
  for (let i = 0; i < count; i++) store.put(`big/d${i % 10}/f${i}.txt`, bytes);
  store.put("keep.txt", bytes);
  return store;
}

/** Issue 18.5: deletes of many keys are batched (`deleteMany`). */
describe("batched deletes", { timeout: 60_000 }, () => {
  it("rm -rf of 1,000 files a command saw is one deleteMany request", async () => {
    const store = bigStore(1000);
    const ws = new Workspace({ mounts: { "/m": MemoryMount({ mode: "read-write", store }) } });
    const r = await ws.exec("rm", ["-rf", "m/big"], { hydrate: true });
    expect(r.changes.deleted).toHaveLength(1000);
    expect(r.changes.notMirrored).toEqual([]);
    expect(r.changes.mirrored).toHaveLength(1000);
    expect(ws.stats.deletes).toBe(1000);
    expect(ws.stats.deleteRequests).toBe(1);
    expect(store.keys().filter((k) => k.startsWith("big/"))).toEqual([]);
    expect(store.has("keep.txt")).toBe(true);
    await ws.close();
  });

  it("ws.fs.rm -r of 2,500 stubs leaves in 3 requests after the debounce, and in batches at flushMounts", async () => {
    const store = bigStore(2500);
    const ws = new Workspace({
      mounts: { "/m": MemoryMount({ mode: "read-write", store, writeBackMs: 50 }) },
    });
    await ws.fs.rm("/m/big", { recursive: true });
    await ws.flushMounts();
    expect(ws.stats.deletes).toBe(2500);
    expect(ws.stats.deleteRequests).toBe(3);
    expect(store.keys()).toEqual(["keep.txt"]);
    await ws.close();
    const manual = bigStore(1500);
    const ws2 = new Workspace({
      mounts: { "/m": MemoryMount({ mode: "read-write", store: manual, writeBack: "manual" }) },
    });
    await ws2.fs.rm("/m/big", { recursive: true });
    await ws2.flushMounts();
    expect([ws2.stats.deletes, ws2.stats.deleteRequests]).toEqual([1500, 2]);
    expect(manual.keys()).toEqual(["keep.txt"]);
    await ws2.close();
  });
});

/** Issue 18.5: partial hydration by path list or glob. */
describe("hydrate by path or glob", { timeout: 60_000 }, () => {
  it("fetches only the stubs a path or glob names; the rest stay absent", async () => {
    const m = spyMount({
      mode: "read-write",
      files: { "src/a.py": "a", "src/b.py": "b", "src/c.txt": "c", "docs/x.md": "x", "README.md": "r" },
    });
    const ws = new Workspace({ mounts: { "/m": m } });
    const r = await ws.exec(
      "sh",
      [
        "-c",
        'cat m/src/a.py m/src/b.py m/docs/x.md; for f in m/src/c.txt m/README.md; do test -e $f || echo " no $f"; done',
      ],
      { hydrate: ["/m/src/*.py", "/m/docs"] },
    );
    expect(r.stdout).toBe("abx no m/src/c.txt\n no m/README.md\n");
    expect(m.calls.fetch).toBe(3);
    const bare = await ws.exec("cat", ["m/README.md"], { hydrate: ["README.md"] });
    expect(bare.stdout).toBe("r");
    expect(m.calls.fetch).toBe(4);
    await ws.close();
  });
});
