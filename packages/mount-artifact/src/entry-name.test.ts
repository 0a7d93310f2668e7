import { describe, expect, it } from "vitest";
import { normalizeEntryName } from "./entry-name.js";

describe("normalizeEntryName", () => {
  it.each([
    ["a/b.txt", "a/b.txt"],
    ["a/b/", "a/b"],
    ["./a/b.txt", "a/b.txt"],
    ["./a/", "a"],
    ["./", ""],
    [".", ""],
    ["./.hidden", ".hidden"],
    ["./a/./b", "a/b"],
    ["a..b/c", "a..b/c"],
  ])("%j → %j", (raw, path) => {
    expect(normalizeEntryName(raw)).toBe(path);
  });

  it.each([
    ["./../evil.txt", "EINVAL"],
    ["./a/../../evil.txt", "EINVAL"],
    ["./a/..", "EINVAL"],
    [".//a", "EINVAL"],
    ["./a//b", "EINVAL"],
    ["./a\\b", "EINVAL"],
    ["./a\u0001b", "EINVAL"],
    ["/./a", "EINVAL"],
    [`./${"x".repeat(256)}`, "ENAMETOOLONG"],
  ])("%j is refused with %s", (raw, code) => {
    expect(() => normalizeEntryName(raw)).toThrow(expect.objectContaining({ code }));
  });
});
