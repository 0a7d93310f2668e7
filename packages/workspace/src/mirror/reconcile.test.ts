import { describe, expect, it } from "vitest";
import type { ConflictSide } from "../workspace-options.js";
import { type LocalFacts, type OldIndex, plan, type UpstreamItem } from "./reconcile.js";

interface Item extends UpstreamItem {
  readonly v: string;
}

const up = (rel: string, v: string): Item => ({ rel, v, side: { exists: true, size: v.length } });

/** An old index of `rel → version` (live unless listed in `hydrated`). */
function oldIndex(base: Record<string, string>, hydrated: string[] = []): OldIndex<Item> {
  return {
    hasBase: (rel) => rel in base,
    isLive: (rel) => rel in base && !hydrated.includes(rel),
    sameAsBase: (item) => base[item.rel] === item.v,
    liveRels: () => Object.keys(base).filter((rel) => !hydrated.includes(rel)),
  };
}

/** Local files `rel → version`, with what the mirror knows. */
function facts(
  files: Record<string, string>,
  known: {
    pending?: string[];
    newer?: string[];
    localOnly?: string[];
    known?: string[];
    before?: string[];
  } = {},
): LocalFacts<Item> {
  const side = (v: string): ConflictSide => ({ exists: true, size: v.length });
  return {
    pending: (rel) => known.pending?.includes(rel) ?? false,
    newer: (rel) => known.newer?.includes(rel) ?? false,
    localOnly: (rel) => known.localOnly?.includes(rel) ?? false,
    file: (rel) => (rel in files ? side(files[rel]!) : undefined),
    upstreamKnown: (rel) => known.known?.includes(rel) ?? false,
    ours: (item) => files[item.rel] === item.v,
    knownBefore: (rel) => known.before?.includes(rel) ?? false,
    fileRels: () => Object.keys(files),
  };
}

describe("plan(old index, new listing, local facts)", () => {
  it("classifies stubs: added, changed, deleted, unchanged", () => {
    const p = plan(
      oldIndex({ a: "1", b: "1", gone: "1" }),
      [up("a", "1"), up("b", "2"), up("new", "1")],
      facts({}),
    );
    expect(p).toMatchObject({ added: ["new"], changed: ["b"], deleted: ["gone"], kept: [], conflicts: [] });
    expect(p.actions.get("a")).toBeUndefined();
    expect(p.actions.get("b")).toBe("take-upstream");
  });

  it("keeps a pending local write, raising a conflict only when upstream moved", () => {
    const p = plan(
      oldIndex({ a: "1", b: "1" }, ["a", "b"]),
      [up("a", "1"), up("b", "2")],
      facts({ a: "local", b: "local" }, { pending: ["a", "b"] }),
    );
    expect(p.kept).toEqual(["a", "b"]);
    expect(p.conflicts).toEqual([
      { rel: "b", local: { exists: true, size: 5 }, remote: { exists: true, size: 1 } },
    ]);
    expect(p.actions.get("a")).toBe("keep-local");
    expect(p.actions.get("b")).toBe("keep-local");
  });

  it("a hydrated copy gives way to a new upstream version, and stays when it is ours", () => {
    const p = plan(
      oldIndex({ a: "1", b: "1" }, ["a", "b"]),
      [up("a", "2"), up("b", "1")],
      facts({ a: "1", b: "1" }, { known: ["a", "b"] }),
    );
    expect(p.changed).toEqual(["a"]);
    expect(p.actions.get("a")).toBe("take-upstream");
    expect(p.actions.get("b")).toBe("keep-local");
  });

  it("local-only content is kept (conflict when upstream differs); a local-only delete stays deleted", () => {
    const p = plan(
      oldIndex({ a: "1", d: "1" }, ["a"]),
      [up("a", "2"), up("d", "1")],
      facts({ a: "exec" }, { localOnly: ["a", "d"] }),
    );
    expect(p.kept).toEqual(["a"]);
    expect(p.conflicts.map((c) => c.rel)).toEqual(["a"]);
    expect(p.actions.get("d")).toBe("keep-local");
    expect(p.added).toEqual([]);
  });

  it("upstream deletions: a known local copy is deleted, a pending write known upstream is a conflict", () => {
    const p = plan(
      oldIndex({ a: "1", b: "1", c: "1" }, ["a", "b", "c"]),
      [],
      facts({ a: "1", b: "local", c: "mine" }, { known: ["a"], pending: ["b"], before: ["b"] }),
    );
    expect(p.deleted).toEqual(["a"]);
    expect(p.actions.get("a")).toBe("delete-local");
    expect(p.kept).toEqual(["b"]);
    expect(p.conflicts).toEqual([{ rel: "b", local: { exists: true, size: 5 }, remote: { exists: false } }]);
    expect(p.actions.has("c")).toBe(false);
  });

  it("is pure: the same inputs give the same plan, and nothing is called back", () => {
    const args = [oldIndex({ a: "1" }), [up("a", "2")], facts({})] as const;
    expect(plan(...args)).toEqual(plan(...args));
  });
});
