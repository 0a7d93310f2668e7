import { describe, expect, it } from "vitest";
import { sanitizeEntries } from "./entries.js";
import { redact } from "./redact.js";
import type { MountEntry } from "./types.js";

describe("sanitizeEntries", () => {
  it("keeps valid entries in order", () => {
    const entries = [
      { path: "a.txt", size: 1 },
      { path: "dir/b.txt", size: 2, etag: "x" },
    ];
    expect(sanitizeEntries(entries)).toEqual({ entries, skipped: [] });
  });

  it("skips keys that cannot be paths, with a diagnostic each", () => {
    const { entries, skipped } = sanitizeEntries(
      [
        { path: "", size: 0 },
        { path: "/abs", size: 0 },
        { path: "a//b", size: 0 },
        { path: "../escape", size: 0 },
        { path: "a/./b", size: 0 },
        { path: "dir/", size: 0 },
        { path: "nul\0", size: 0 },
        { path: "ok", size: 0 },
      ],
      "/m",
    );
    expect(entries.map((e) => e.path)).toEqual(["ok"]);
    expect(skipped).toHaveLength(7);
    expect(skipped.every((d) => d.code === "invalid-path" && d.root === "/m")).toBe(true);
  });

  it("skips invalid sizes and duplicates (the first entry wins)", () => {
    const { entries, skipped } = sanitizeEntries([
      { path: "a", size: 1, etag: "first" },
      { path: "a", size: 2, etag: "second" },
      { path: "b", size: -1 },
      { path: "c", size: 1.5 },
      { path: "d", size: Number.NaN },
    ] as MountEntry[]);
    expect(entries).toEqual([{ path: "a", size: 1, etag: "first" }]);
    expect(skipped.map((d) => d.code)).toEqual([
      "duplicate-path",
      "invalid-size",
      "invalid-size",
      "invalid-size",
    ]);
  });

  it("skips a key that is both a file and a directory prefix, keeping its children", () => {
    const { entries, skipped } = sanitizeEntries([
      { path: "a", size: 1 },
      { path: "a/b", size: 1 },
      { path: "a/b/c", size: 1 },
      { path: "ab", size: 1 },
    ]);
    expect(entries.map((e) => e.path)).toEqual(["a/b/c", "ab"]);
    expect(skipped.map((d) => [d.code, d.key])).toEqual([
      ["file-directory-conflict", "a"],
      ["file-directory-conflict", "a/b"],
    ]);
  });

  it("drops a folder's own marker beside its entries, unless it carries the folder's mode", () => {
    const { entries, skipped } = sanitizeEntries([
      { path: "plain", size: 0, type: "directory" },
      { path: "plain/a", size: 1 },
      { path: "private", size: 0, type: "directory", mode: 0o700 },
      { path: "private/b", size: 1 },
    ]);
    expect(entries.map((e) => e.path)).toEqual(["plain/a", "private", "private/b"]);
    expect(skipped).toEqual([]);
  });

  it("survives garbage from a broken provider", () => {
    const { entries, skipped } = sanitizeEntries([
      null,
      { size: 1 },
      { path: 7, size: 1 },
    ] as unknown as MountEntry[]);
    expect(entries).toEqual([]);
    expect(skipped).toHaveLength(3);
  });
});

describe("redact", () => {
  it("removes every occurrence of each secret", () => {
    expect(redact("key=AKIASECRET1 again AKIASECRET1", ["AKIASECRET1", undefined])).toBe(
      "key=[redacted] again [redacted]",
    );
  });

  it("leaves text alone for missing or very short secrets", () => {
    expect(redact("a b c", ["", "a", undefined])).toBe("a b c");
  });
});
