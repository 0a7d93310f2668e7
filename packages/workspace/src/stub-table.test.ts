import { describe, expect, it } from "vitest";
import { StubTable } from "./stub-table.js";

describe("StubTable", () => {
  const table = () =>
    new StubTable([
      { path: "z.txt", size: 1 },
      { path: "a/c.txt", size: 2, mtime: 5, etag: "e", mode: 0o755 },
      { path: "a/b.txt", size: 3 },
      { path: "a/d/e.txt", size: 4 },
    ]);

  it("finds entries by binary search, whatever the listing order", () => {
    const t = table();
    expect(t.length).toBe(4);
    for (const p of ["z.txt", "a/c.txt", "a/b.txt", "a/d/e.txt"]) expect(t.path(t.find(p))).toBe(p);
    expect(t.find("a/x.txt")).toBe(-1);
    expect(t.find("nope/x")).toBe(-1);
    expect(t.entry(t.find("a/c.txt"))).toEqual({
      path: "a/c.txt",
      size: 2,
      mtime: 5,
      etag: "e",
      mode: 0o755,
    });
    expect(t.entry(t.find("a/b.txt"))).toEqual({ path: "a/b.txt", size: 3 });
  });

  it("lists directories and tracks live stubs through kill()", () => {
    const t = table();
    expect(t.fileNames("")).toEqual(["z.txt"]);
    expect(t.dirNames("")).toEqual(["a"]);
    expect(t.fileNames("a")).toEqual(["b.txt", "c.txt"]);
    expect(t.dirNames("a")).toEqual(["d"]);
    expect(t.liveBytes).toBe(10);
    t.kill(t.find("a/d/e.txt"));
    t.kill(t.find("a/d/e.txt"));
    expect(t.dirNames("a")).toEqual([]);
    expect(t.hasDir("a/d")).toBe(false);
    expect(t.hasDir("a")).toBe(true);
    expect(t.liveCount).toBe(3);
    expect(t.liveBytes).toBe(6);
    expect(t.findLive("a/d/e.txt")).toBe(-1);
    expect(t.find("a/d/e.txt")).toBeGreaterThanOrEqual(0);
    expect([...t.liveSlotsUnder("a")].map((s) => t.path(s))).toEqual(["a/b.txt", "a/c.txt"]);
    expect(t.liveDirs()).toEqual(["a"]);
  });

  it("with() adds and replaces entries as live stubs, keeping every other slot's liveness", () => {
    const t = table();
    t.kill(t.find("a/b.txt"));
    t.kill(t.find("a/c.txt"));
    const next = t.with([
      { path: "a/c.txt", size: 9, etag: "new" },
      { path: "n/big.bin", size: 100, mtime: 7, mode: 0o600 },
    ]);
    expect(next.length).toBe(5);
    expect(next.findLive("a/b.txt")).toBe(-1);
    expect(next.find("a/b.txt")).toBeGreaterThanOrEqual(0);
    expect(next.entry(next.findLive("a/c.txt"))).toEqual({ path: "a/c.txt", size: 9, etag: "new" });
    expect(next.entry(next.findLive("n/big.bin"))).toEqual({
      path: "n/big.bin",
      size: 100,
      mtime: 7,
      mode: 0o600,
    });
    expect(next.liveBytes).toBe(1 + 9 + 4 + 100);
    expect(next.dirNames("")).toEqual(["a", "n"]);
    // The old table is unchanged.
    expect(t.findLive("a/c.txt")).toBe(-1);
  });
});
