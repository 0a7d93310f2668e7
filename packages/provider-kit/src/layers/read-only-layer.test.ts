import { type LazyMount, MemoryMount, MountError } from "@ws/core";
import { describe, expect, it } from "vitest";
import { faultLayer } from "../test/fault-layer.js";
import { readOnlyLayer } from "./read-only-layer.js";

describe("readOnlyLayer", () => {
  it("refuses put and delete on a read-only mount with EROFS naming the root, without calling it", async () => {
    const faults = faultLayer([]);
    const mount = readOnlyLayer()(faults(MemoryMount({ files: { a: "1" } }), { root: "/w/skills" }), {
      root: "/w/skills",
    }) as LazyMount;
    const error = (await mount.put?.("x/y.md", new Uint8Array()).catch((e: unknown) => e)) as MountError;
    expect(MountError.hasCode(error, "EROFS")).toBe(true);
    expect(error.message).toBe(
      'EROFS: cannot modify /w/skills/x/y.md: /w/skills is a read-only mount (mode: "read-only"); pass mode: "read-write" to write through',
    );
    expect(error).toMatchObject({ root: "/w/skills", path: "/w/skills/x/y.md", syscall: "write" });
    const del = (await mount.delete?.("a").catch((e: unknown) => e)) as MountError;
    expect(del).toMatchObject({ code: "EROFS", syscall: "unlink" });
    expect(faults.calls).toMatchObject({ put: 0, delete: 0 });
    expect(await mount.fetch("a")).toEqual(new Uint8Array([49]));
  });

  it("leaves a writable mount as it is", () => {
    const mount = MemoryMount({ mode: "read-write" });
    expect(readOnlyLayer()(mount, { root: "/m" })).toBe(mount);
  });
});
