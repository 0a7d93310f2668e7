import { type LazyMount, MemoryMount, type MountError } from "@ws/core";
import { describe, expect, it } from "vitest";
import { faultLayer } from "./fault-layer.js";

const ctx = { root: "/m" };

describe("faultLayer", () => {
  it("injects errors per operation and per call number, and counts calls", async () => {
    const faults = faultLayer([{ op: "fetch", calls: [2], error: { code: "EIO", transient: true } }]);
    const mount = faults(MemoryMount({ files: { a: "1" } }), ctx) as LazyMount;
    await mount.fetch("a");
    const error = (await mount.fetch("a").catch((e: unknown) => e)) as MountError;
    expect(error).toMatchObject({ code: "EIO", transient: true, path: "a" });
    await mount.fetch("a");
    await mount.list();
    expect(faults.calls).toMatchObject({ fetch: 3, list: 1 });
    expect(faults.injected).toBe(1);
  });

  it("truncates bodies, adds latency, limits by path and times, and can change plan", async () => {
    const faults = faultLayer([
      { op: "fetch", path: /big/, truncateTo: 2, times: 1 },
      { op: "list", latencyMs: 30 },
    ]);
    const mount = faults(MemoryMount({ files: { big: "12345", small: "1" } }), ctx) as LazyMount;
    expect((await mount.fetch("big")).length).toBe(2);
    expect((await mount.fetch("big")).length).toBe(5);
    const started = Date.now();
    await mount.list();
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    faults.setRules([{ error: new TypeError("boom") }]);
    await expect(mount.fetch("small")).rejects.toThrow("boom");
  });
});
