import { describe, expect, it } from "vitest";
import { MountError } from "./errors.js";
import { compileIgnore, composeIgnore } from "./ignore.js";

describe("compileIgnore", () => {
  it("matches a bare name as a whole segment anywhere, and everything below it", () => {
    const ignored = compileIgnore(["node_modules", ".cache"]);
    expect(ignored("node_modules")).toBe(true);
    expect(ignored("node_modules/x/y.js")).toBe(true);
    expect(ignored("pkg/node_modules/x")).toBe(true);
    expect(ignored("a/.cache")).toBe(true);
    expect(ignored("node_modules2/x")).toBe(false);
    expect(ignored("my.cache")).toBe(false);
    expect(ignored("src/index.ts")).toBe(false);
  });

  it("matches a glob without / against each segment", () => {
    const ignored = compileIgnore(["*.log", ".env*"]);
    expect(ignored("a.log")).toBe(true);
    expect(ignored("deep/dir/b.log")).toBe(true);
    expect(ignored("logs.d/x.log/inner")).toBe(true);
    expect(ignored(".env.local")).toBe(true);
    expect(ignored("a.log.txt")).toBe(false);
  });

  it("anchors a pattern with / at the mount root", () => {
    const ignored = compileIgnore(["build/cache", "/dist", "docs/**/*.md"]);
    expect(ignored("build/cache")).toBe(true);
    expect(ignored("build/cache/x.bin")).toBe(true);
    expect(ignored("src/build/cache")).toBe(false);
    expect(ignored("dist/a.js")).toBe(true);
    expect(ignored("src/dist/a.js")).toBe(false);
    expect(ignored("docs/a/b.md")).toBe(true);
    expect(ignored("docs/b.md")).toBe(true);
    expect(ignored("docs/b.txt")).toBe(false);
  });

  it("treats dotfiles like other files in globs", () => {
    expect(compileIgnore(["*"])(".hidden")).toBe(true);
    expect(compileIgnore(["a/*"])("a/.hidden")).toBe(true);
  });

  it("ignores nothing with no patterns, and never the root itself", () => {
    expect(compileIgnore([])("anything")).toBe(false);
    expect(compileIgnore(["*"])("")).toBe(false);
  });

  it.each(["", "  ", "!keep", "/", "a\0b"])("rejects %j with EINVAL", (pattern) => {
    try {
      compileIgnore([pattern]);
      expect.unreachable();
    } catch (error) {
      expect(MountError.hasCode(error, "EINVAL")).toBe(true);
    }
  });
});

describe("composeIgnore", () => {
  it("unions workspace-level and mount-level lists without duplicates", () => {
    expect(composeIgnore([".git", "node_modules"], undefined, ["node_modules", "*.tmp"])).toEqual([
      ".git",
      "node_modules",
      "*.tmp",
    ]);
  });

  it("ignores a path when either list does", () => {
    const ignored = compileIgnore(composeIgnore([".git"], ["*.tmp"]));
    expect(ignored(".git/HEAD")).toBe(true);
    expect(ignored("x.tmp")).toBe(true);
    expect(ignored("x.txt")).toBe(false);
  });
});
