import { describe, expect, it } from "vitest";
import { MountError } from "./errors.js";
import {
  ancestorsOf,
  baseName,
  isWithinRoot,
  joinMountPath,
  normalizeAbsolutePath,
  normalizeKeyPrefix,
  parentPath,
  relativeToRoot,
  resolveLinkWithinRoot,
  validateMountRoot,
  validateRelativePath,
} from "./paths.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return MountError.isInstance(error) ? error.code : "not-a-mount-error";
  }
}

describe("validateMountRoot", () => {
  it("accepts canonical absolute roots unchanged", () => {
    expect(validateMountRoot("/workspace")).toBe("/workspace");
    expect(validateMountRoot("/workspace/.agents/skills")).toBe("/workspace/.agents/skills");
    expect(validateMountRoot("/a b/ü/🙂")).toBe("/a b/ü/🙂");
  });

  it.each([
    ["", "empty"],
    ["workspace", "relative"],
    ["/", "the VFS root"],
    ["/workspace/", "trailing slash"],
    ["/workspace//data", "empty segment"],
    ["/workspace/./data", "dot segment"],
    ["/workspace/../etc", "dot-dot segment"],
    ["/work\0space", "NUL"],
    [`/${"x".repeat(256)}`, "over-long segment"],
  ])("rejects %j (%s) with EINVAL", (root) => {
    expect(codeOf(() => validateMountRoot(root))).toBe("EINVAL");
  });

  it("suggests the normalised form", () => {
    expect(() => validateMountRoot("/workspace/")).toThrow(/did you mean "\/workspace"/);
    expect(() => validateMountRoot("workspace")).toThrow(/write it as "\/workspace"/);
  });
});

describe("validateRelativePath", () => {
  it("accepts ordinary and awkward names", () => {
    for (const p of [
      "a",
      "a/b/c.txt",
      ".hidden",
      "a b/%20/+/#?&=",
      "日本/🙂",
      "x".repeat(255),
      "...",
      "a\\b",
    ]) {
      expect(validateRelativePath(p)).toBe(p);
    }
  });

  it.each([
    "",
    "/a",
    "a/",
    "a//b",
    ".",
    "..",
    "a/./b",
    "a/../b",
    "../a",
    "a\0b",
    "x".repeat(256),
    `${"é".repeat(128)}`,
  ])("rejects %j with EINVAL", (p) => {
    expect(codeOf(() => validateRelativePath(p))).toBe("EINVAL");
  });

  it("rejects non-strings", () => {
    expect(codeOf(() => validateRelativePath(42 as unknown as string))).toBe("EINVAL");
  });
});

describe("normalizeAbsolutePath", () => {
  it.each([
    ["/", "/"],
    ["//", "/"],
    ["/a/", "/a"],
    ["/a//b/./c", "/a/b/c"],
    ["/a/b/../c", "/a/c"],
    ["/../../x", "/x"],
    ["/a/..", "/"],
  ])("%j → %j", (input, output) => {
    expect(normalizeAbsolutePath(input)).toBe(output);
  });

  it("rejects relative paths and NUL", () => {
    expect(codeOf(() => normalizeAbsolutePath("a/b"))).toBe("EINVAL");
    expect(codeOf(() => normalizeAbsolutePath("/a\0"))).toBe("EINVAL");
  });
});

describe("joinMountPath", () => {
  it("joins a root and a relative path", () => {
    expect(joinMountPath("/workspace/data", "a/b.txt")).toBe("/workspace/data/a/b.txt");
  });

  it.each(["../etc/passwd", "a/../../x", "/etc/passwd", "", "a//b", "./a"])("refuses %j", (rel) => {
    expect(codeOf(() => joinMountPath("/workspace/data", rel))).toBe("EINVAL");
  });

  it("refuses a bad root", () => {
    expect(codeOf(() => joinMountPath("/workspace/", "a"))).toBe("EINVAL");
  });
});

describe("relativeToRoot and isWithinRoot", () => {
  it("compares whole segments", () => {
    expect(relativeToRoot("/a/b", "/a/b")).toBe("");
    expect(relativeToRoot("/a/b", "/a/b/c/d")).toBe("c/d");
    expect(relativeToRoot("/a/b", "/a/bc")).toBeUndefined();
    expect(relativeToRoot("/a/b", "/a")).toBeUndefined();
    expect(relativeToRoot("/", "/x/y")).toBe("x/y");
    expect(isWithinRoot("/a/b", "/a/b/c")).toBe(true);
    expect(isWithinRoot("/a/b", "/a/bc")).toBe(false);
  });
});

describe("small helpers", () => {
  it("parentPath, baseName, ancestorsOf", () => {
    expect(parentPath("/a/b/c")).toBe("/a/b");
    expect(parentPath("/a")).toBe("/");
    expect(parentPath("/")).toBe("/");
    expect(baseName("/a/b.txt")).toBe("b.txt");
    expect(baseName("b.txt")).toBe("b.txt");
    expect(ancestorsOf("a/b/c")).toEqual(["a", "a/b"]);
    expect(ancestorsOf("a")).toEqual([]);
  });
});

describe("resolveLinkWithinRoot", () => {
  it("resolves relative and absolute targets inside the root", () => {
    expect(resolveLinkWithinRoot("/m", "/m/a/link", "../b/file")).toBe("/m/b/file");
    expect(resolveLinkWithinRoot("/m", "/m/a/link", "/m/c")).toBe("/m/c");
    expect(resolveLinkWithinRoot("/m", "/m/a/link", ".")).toBe("/m/a");
  });

  it.each(["../../etc/passwd", "/etc/passwd", "../../m2/x", ""])("rejects %j", (target) => {
    expect(codeOf(() => resolveLinkWithinRoot("/m", "/m/a/link", target))).toBe("EINVAL");
  });

  it("names the link and the root in the message", () => {
    expect(() => resolveLinkWithinRoot("/m", "/m/a/link", "../../etc/passwd")).toThrow(
      /\/m\/a\/link -> \.\.\/\.\.\/etc\/passwd points outside the mount root \/m/,
    );
  });
});

describe("normalizeKeyPrefix", () => {
  it("drops slashes at the ends and keeps the rest", () => {
    expect(normalizeKeyPrefix(undefined)).toBe("");
    expect(normalizeKeyPrefix("/")).toBe("");
    expect(normalizeKeyPrefix("/.agents/skills/")).toBe(".agents/skills");
  });

  it.each(["a//b", "a/../b", "./a", "a\0b"])("rejects %j", (raw) => {
    expect(codeOf(() => normalizeKeyPrefix(raw))).toBe("EINVAL");
  });
});
