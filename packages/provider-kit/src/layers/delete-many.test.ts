import { defineLazyMount, type LazyMount, MemoryMount, type MountError } from "@ws/core";
import { describe, expect, it } from "vitest";
import { applyLayers } from "./apply-layers.js";
import type { ObserveEvent } from "./observe-layer.js";

/** Issue 18.5: `deleteMany` is one call for every layer, and the kit splits batches by the provider's limit. */
describe("deleteMany through the kit and the layers", () => {
  it("is one observed call carrying every path; read-only mounts refuse it with EROFS", async () => {
    const inner = MemoryMount({ mode: "read-write", files: { a: "1", b: "2", c: "3" } });
    const events: ObserveEvent[] = [];
    const mount = applyLayers(inner, { root: "/m", observe: (e) => events.push(e) }) as LazyMount;
    await mount.deleteMany?.(["a", "b"]);
    expect(inner.store.keys()).toEqual(["c"]);
    expect(events.map((e) => [e.op, e.path, e.paths])).toEqual([["delete", "a", ["a", "b"]]]);
    const ro = applyLayers(MemoryMount({ files: { a: "1" } }), { root: "/ro" }) as LazyMount;
    expect(ro.deleteMany).toBeUndefined();
  });

  it("defineLazyMount splits a batch by deleteManyLimit and maps keys under the prefix", async () => {
    const batches: string[][] = [];
    const mount = defineLazyMount({
      kind: "test",
      options: { mode: "read-write" },
      prefix: "p",
      async *listPages() {},
      async fetch() {
        return new Uint8Array();
      },
      async put() {},
      async delete() {},
      async deleteMany(keys) {
        batches.push([...keys]);
      },
      deleteManyLimit: 2,
    });
    await mount.deleteMany?.(["a", "b", "c"]);
    expect(batches).toEqual([["p/a", "p/b"], ["p/c"]]);
    const refused = (await mount.deleteMany?.(["../x"]).catch((error: unknown) => error)) as MountError;
    expect(refused.code).toBe("EINVAL");
  });
});
