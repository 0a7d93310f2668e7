import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MountError } from "./errors.js";
import { checkMountNesting, type MountRootType, MountTable } from "./mount-table.js";

function errorOf(fn: () => unknown): MountError {
  try {
    fn();
  } catch (error) {
    if (MountError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a MountError");
}

describe("nesting checks", () => {
  it("accepts side-by-side directory mounts", () => {
    expect(() =>
      checkMountNesting([
        { root: "/workspace/a", type: "directory" },
        { root: "/workspace/ab", type: "directory" },
        { root: "/workspace/b/c", type: "directory" },
      ]),
    ).not.toThrow();
  });

  it("rejects directory mounts that nest, in either order, naming both roots", () => {
    for (const order of [
      ["/workspace/a", "/workspace/a/b"],
      ["/workspace/a/b", "/workspace/a"],
    ] as const) {
      const error = errorOf(() =>
        checkMountNesting(order.map((root) => ({ root, type: "directory" as const }))),
      );
      expect(error.code).toBe("EINVAL");
      expect(error.message).toContain("/workspace/a/b");
      expect(error.message).toMatch(/\/workspace\/a\/b is inside \/workspace\/a;/);
    }
  });

  it("rejects two mounts on one root with EEXIST", () => {
    const error = errorOf(() =>
      checkMountNesting([
        { root: "/w/x", type: "directory" },
        { root: "/w/x", type: "file" },
      ]),
    );
    expect(error.code).toBe("EEXIST");
    expect(error.message).toContain("/w/x");
  });

  it("allows a single-file mount inside a directory mount", () => {
    expect(() =>
      checkMountNesting([
        { root: "/w", type: "directory" },
        { root: "/w/conf/config.json", type: "file" },
      ]),
    ).not.toThrow();
  });

  it("rejects anything inside a file mount with ENOTDIR", () => {
    const error = errorOf(() =>
      checkMountNesting([
        { root: "/w/f.json", type: "file" },
        { root: "/w/f.json/x", type: "directory" },
      ]),
    );
    expect(error.code).toBe("ENOTDIR");
    expect(error.message).toContain("/w/f.json/x");
    expect(error.message).toContain("/w/f.json,");
  });

  it("rejects invalid roots before any nesting check", () => {
    expect(errorOf(() => new MountTable().add("/w/", "directory", 1)).code).toBe("EINVAL");
    expect(errorOf(() => new MountTable().add("/w", "dir" as MountRootType, 1)).code).toBe("EINVAL");
  });

  it("leaves the table unchanged when add() throws", () => {
    const table = new MountTable<number>();
    table.add("/w/a", "directory", 1);
    expect(() => table.add("/w/a/b", "directory", 2)).toThrow();
    expect(table.size).toBe(1);
    expect(table.owner("/w/a/b/c")?.root).toBe("/w/a");
  });
});

describe("ownership", () => {
  const table = new MountTable<string>();
  table.add("/w/a/b", "directory", "ab");
  table.add("/w/a/b/conf.json", "file", "conf");
  table.add("/w/c", "file", "c");

  it("uses the longest segment-wise prefix", () => {
    expect(table.owner("/w/a/b/c")).toMatchObject({ root: "/w/a/b", relPath: "c", value: "ab" });
    expect(table.owner("/w/a/b")).toMatchObject({ root: "/w/a/b", relPath: "" });
    expect(table.owner("/w/a/bc")).toBeUndefined();
    expect(table.owner("/w/a")).toBeUndefined();
  });

  it("normalises the queried path", () => {
    expect(table.owner("/w/a/./b//x/../y/")).toMatchObject({ root: "/w/a/b", relPath: "y" });
  });

  it("gives a file mount its own path only", () => {
    expect(table.owner("/w/a/b/conf.json")).toMatchObject({
      root: "/w/a/b/conf.json",
      type: "file",
      relPath: "",
    });
    // Below a file mount nothing can exist; the enclosing directory mount owns the (impossible) path.
    expect(table.owner("/w/a/b/conf.json/x")).toMatchObject({ root: "/w/a/b", relPath: "conf.json/x" });
    expect(table.owner("/w/c/x")).toBeUndefined();
  });

  it("lists the entries an inner file mount shadows", () => {
    expect(table.shadowedIn("/w/a/b")).toEqual(["conf.json"]);
    expect(table.shadowedIn("/w/c")).toEqual([]);
    expect(table.shadowedIn("/nope")).toEqual([]);
  });

  it("lists mount roots below a directory (for parent listings)", () => {
    expect(table.rootsUnder("/w")).toEqual(["/w/a/b", "/w/a/b/conf.json", "/w/c"]);
    expect(table.rootsUnder("/w/a/b")).toEqual(["/w/a/b/conf.json"]);
    expect(table.rootsUnder("/x")).toEqual([]);
  });

  it("forgets removed mounts", () => {
    const t = new MountTable<number>();
    t.add("/m", "directory", 1);
    expect(t.remove("/m")).toBe(true);
    expect(t.owner("/m/x")).toBeUndefined();
    t.add("/m/inner", "directory", 2);
    expect(t.owner("/m/inner/x")?.value).toBe(2);
  });
});

// Brute force: every mount whose root equals the path or is a segment-wise ancestor of it, taking
// the longest; file mounts only own their exact path.
function bruteOwner(mounts: Array<{ root: string; type: MountRootType }>, path: string): string | undefined {
  const candidates = mounts.filter((m) =>
    m.type === "file" ? m.root === path : path === m.root || path.startsWith(`${m.root}/`),
  );
  candidates.sort((x, y) => y.root.length - x.root.length);
  return candidates[0]?.root;
}

describe("ownership property", () => {
  const seg = fc.constantFrom("a", "b", "ab", "a.b", "c");
  const absPath = fc.array(seg, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join("/")}`);
  const mount = fc.record({ root: absPath, type: fc.constantFrom<MountRootType>("directory", "file") });

  it("agrees with a brute-force model: exactly one owner or none", () => {
    fc.assert(
      fc.property(
        fc.array(mount, { maxLength: 8 }),
        fc.array(absPath, { minLength: 1, maxLength: 10 }),
        (ms, paths) => {
          const table = new MountTable<null>();
          const accepted: Array<{ root: string; type: MountRootType }> = [];
          for (const m of ms) {
            try {
              table.add(m.root, m.type, null);
              accepted.push(m);
            } catch (error) {
              expect(MountError.isInstance(error)).toBe(true);
            }
          }
          // The accepted set itself obeys the rules.
          for (const x of accepted) {
            for (const y of accepted) {
              if (x === y) continue;
              expect(x.root).not.toBe(y.root);
              if (y.root.startsWith(`${x.root}/`)) {
                expect(x.type === "directory" && y.type === "file").toBe(true);
              }
            }
          }
          for (const p of paths) {
            const owner = table.owner(p);
            expect(owner?.root).toBe(bruteOwner(accepted, p));
            const owners = accepted.filter((m) => m.root === owner?.root);
            expect(owners.length).toBe(owner ? 1 : 0);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
