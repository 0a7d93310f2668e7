import { describe, expect, it } from "vitest";
import { spyMount, stored } from "../test/helpers.js";
import { Workspace } from "./workspace.js";

describe("close() and calls in flight", () => {
  it("a writeFile started just before close() lands before close() resolves", async () => {
    const m = spyMount({ mode: "read-write" });
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.stat("/m");
    const write = ws.fs.writeFile("/m/a.txt", "a");
    const closing = ws.close();
    await write;
    await closing;
    expect(stored(m, "a.txt")).toBe("a");
  });

  it("the same before the first index, and for appends, renames and deletes", async () => {
    const m = spyMount({
      mode: "read-write",
      writeBack: "manual",
      files: { "old.txt": "o", "gone.txt": "g" },
    });
    const ws = new Workspace({ mounts: { "/m": m } });
    const calls = [
      ws.fs.writeFile("/m/a.txt", "a"),
      ws.fs.appendFile("/m/old.txt", "+"),
      ws.fs.rename("/m/gone.txt", "/m/moved.txt"),
    ];
    const closing = ws.close();
    await Promise.all(calls);
    await closing;
    expect([...m.inner.store.keys()].sort()).toEqual(["a.txt", "moved.txt", "old.txt"]);
    expect(stored(m, "old.txt")).toBe("o+");
  });

  it("a write that resolved but cannot land makes close() reject naming it", async () => {
    const m = spyMount({ mode: "read-write" });
    m.failures.put = 1_000;
    const ws = new Workspace({ mounts: { "/m": m }, retry: { retries: 0 } });
    await ws.fs.stat("/m");
    const write = ws.fs.writeFile("/m/a.txt", "a");
    const closing = ws.close();
    await write;
    await expect(closing).rejects.toThrow(/\/m\/a\.txt/);
  });

  it("calls made once close() started reject with EIO; a second close() waits for the first", async () => {
    const m = spyMount({ mode: "read-write" });
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.writeFile("/m/a.txt", "a");
    const closing = ws.close();
    await expect(ws.fs.writeFile("/m/b.txt", "b")).rejects.toMatchObject({ code: "EIO" });
    await ws.close();
    expect(stored(m, "a.txt")).toBe("a");
    await closing;
    expect(stored(m, "b.txt")).toBeUndefined();
  });
});
