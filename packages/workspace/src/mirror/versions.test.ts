import { type LazyMount, MemoryMount, MemoryStore, type MountEntry } from "@ws/core";
import { describe, expect, it } from "vitest";
import { Workspace } from "../workspace.js";
import type { MountConflict } from "../workspace-options.js";

const text = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString("utf8");

function setup(options: ConstructorParameters<typeof Workspace>[0] = {}, files: Record<string, string> = {}) {
  const store = new MemoryStore(files);
  const mount = MemoryMount({ store, mode: "read-write", writeBack: "manual" });
  const conflicts: MountConflict[] = [];
  const ws = new Workspace({ mounts: { "/m": mount }, ...options });
  ws.on("conflict", (c) => conflicts.push(c));
  return { store, mount, ws, conflicts };
}

describe("versions, not sizes (issue 9 item 7)", () => {
  it("another writer's same-size change is seen by refresh (our put's etag, not its size)", async () => {
    const { store, ws } = setup();
    await ws.fs.writeFile("/m/a.txt", "mine");
    await ws.flushMounts();
    store.put("a.txt", "THEM");
    const result = await ws.refreshMount("/m");
    expect(result.changed).toEqual(["/m/a.txt"]);
    expect(await ws.fs.readFile("/m/a.txt", "utf8")).toBe("THEM");
    await ws.close();
  });

  it("write-back after another writer's change is a version conflict with both sides, not an overwrite", async () => {
    const { store, ws, conflicts } = setup();
    await ws.fs.writeFile("/m/a.txt", "v1");
    await ws.flushMounts();
    store.put("a.txt", "other writer");
    await ws.fs.appendFile("/m/a.txt", " + mine");
    const error = await ws.flushMounts().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "EIO" });
    expect(String((error as Error).message)).toContain("/m/a.txt");
    expect(text(store.get("a.txt")?.bytes)).toBe("other writer");
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({
      kind: "version",
      path: "/m/a.txt",
      local: { exists: true, size: 9 },
      remote: { exists: true, size: 12 },
      error: { code: "ESTALE" },
    });
    // Upstream won; the workspace now shows it and the next flush is clean.
    expect(await ws.fs.readFile("/m/a.txt", "utf8")).toBe("other writer");
    await ws.close();
  });

  it("a listed file overwritten without reading it: ifMatch on the listed etag", async () => {
    const { store, ws, conflicts } = setup({}, { "doc.md": "listed" });
    await ws.fs.stat("/m/doc.md");
    store.put("doc.md", "changed upstream");
    await ws.fs.writeFile("/m/doc.md", "local edit");
    await expect(ws.flushMounts()).rejects.toMatchObject({ code: "EIO" });
    expect(text(store.get("doc.md")?.bytes)).toBe("changed upstream");
    expect(conflicts.map((c) => c.kind)).toEqual(["version"]);
    await ws.close();
  });

  it('"keep-local" from the hook overwrites upstream; the seed field names are given too', async () => {
    const seen: MountConflict[] = [];
    const { store, ws } = setup({
      onMountConflict: (c) => {
        seen.push(c);
        return "keep-local";
      },
    });
    await ws.fs.writeFile("/m/a.txt", "v1");
    await ws.flushMounts();
    store.put("a.txt", "other");
    await ws.fs.writeFile("/m/a.txt", "mine wins");
    await ws.flushMounts();
    expect(text(store.get("a.txt")?.bytes)).toBe("mine wins");
    expect(seen[0]?.doRev).toEqual(seen[0]?.local);
    expect(seen[0]?.containerRev).toEqual(seen[0]?.remote);
    expect(seen[0]?.containerRev).toMatchObject({ exists: true, size: 5 });
    await ws.close();
  });

  it('writeConflicts: "last-writer-wins" puts without ifMatch', async () => {
    const { store, ws, conflicts } = setup({ writeConflicts: "last-writer-wins" });
    await ws.fs.writeFile("/m/a.txt", "v1");
    await ws.flushMounts();
    store.put("a.txt", "other");
    await ws.fs.writeFile("/m/a.txt", "mine");
    await ws.flushMounts();
    expect(text(store.get("a.txt")?.bytes)).toBe("mine");
    expect(conflicts).toEqual([]);
    await ws.close();
  });

  it("a provider that cannot write conditionally (ENOTSUP) gets plain puts", async () => {
    const store = new MemoryStore();
    const inner = MemoryMount({ store, mode: "read-write", writeBack: "manual" });
    const { defineLazyMount } = await import("@ws/core");
    const mount = defineLazyMount({
      kind: "plain",
      options: { mode: "read-write", writeBack: "manual" },
      conditionalWrites: false,
      async *listPages() {
        yield (await inner.list()).map((e) => ({ ...e, key: e.path }));
      },
      fetch: (key) => inner.fetch(key),
      put: (key, bytes) => inner.put(key, bytes),
      delete: (key) => inner.delete(key),
    });
    const ws = new Workspace({ mounts: { "/m": mount } });
    await ws.fs.writeFile("/m/a.txt", "v1");
    await ws.flushMounts();
    await ws.fs.writeFile("/m/a.txt", "v2");
    await ws.flushMounts();
    expect(text(store.get("a.txt")?.bytes)).toBe("v2");
    await ws.close();
  });
});

/** A read-write MemoryMount whose listing is taken at once but delivered when the test says. */
function slowListing(store: MemoryStore) {
  const inner = MemoryMount({ store, mode: "read-write", writeBack: "manual" });
  let release: (() => void) | undefined;
  let taken: (() => void) | undefined;
  const state = { hold: false, taken: Promise.resolve() };
  const mount: LazyMount = {
    kind: "memory",
    strategy: "lazy",
    writable: true,
    options: inner.options,
    rootType: "directory",
    async list(): Promise<MountEntry[]> {
      const snapshot = await inner.list();
      if (state.hold) {
        taken?.();
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      }
      return snapshot;
    },
    fetch: (p) => inner.fetch(p),
    put: (p, b, o) => inner.put(p, b, o),
    delete: (p) => inner.delete(p),
  };
  return {
    mount,
    holdNext(): Promise<void> {
      state.hold = true;
      return new Promise<void>((resolve) => {
        taken = resolve;
      });
    },
    release(): void {
      state.hold = false;
      release?.();
    },
  };
}

describe("refresh never applies a listing older than acknowledged writes (issue 9 item 6)", () => {
  it("a file put while the listing was taken does not vanish", async () => {
    const store = new MemoryStore({ "old.txt": "old" });
    const slow = slowListing(store);
    const ws = new Workspace({ mounts: { "/m": slow.mount } });
    await ws.fs.writeFile("/m/new.txt", "just written");
    const listed = slow.holdNext();
    const refresh = ws.refreshMount("/m");
    await listed;
    await ws.flushMounts();
    slow.release();
    await refresh;
    expect(await ws.fs.readFile("/m/new.txt", "utf8")).toBe("just written");
    expect(text(store.get("new.txt")?.bytes)).toBe("just written");
    await ws.close();
  });

  it("a file deleted while the listing was taken does not come back", async () => {
    const store = new MemoryStore({ "old.txt": "old", "keep.txt": "k" });
    const slow = slowListing(store);
    const ws = new Workspace({ mounts: { "/m": slow.mount } });
    await ws.fs.rm("/m/old.txt");
    const listed = slow.holdNext();
    const refresh = ws.refreshMount("/m");
    await listed;
    await ws.flushMounts();
    slow.release();
    await refresh;
    expect(await ws.fs.exists("/m/old.txt")).toBe(false);
    expect(store.has("old.txt")).toBe(false);
    expect(await ws.fs.readdir("/m")).toEqual(["keep.txt"]);
    await ws.close();
  });
});
