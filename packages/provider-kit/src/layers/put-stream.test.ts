import { bytesSource, type LazyMount, MemoryMount } from "@ws/core";
import { describe, expect, it } from "vitest";
import { faultLayer } from "../test/fault-layer.js";
import { applyLayers } from "./apply-layers.js";
import type { ObserveEvent } from "./observe-layer.js";

describe("putStream through the layers", () => {
  it("is a put for every layer: retried, observed with the source's size, refused on a read-only mount", async () => {
    const inner = MemoryMount({ mode: "read-write" });
    const faults = faultLayer([
      { op: "put", calls: [1], error: { code: "EIO", transient: true, message: "blip" } },
    ]);
    const events: ObserveEvent[] = [];
    const mount = applyLayers(faults(inner, { root: "/m" }), {
      root: "/m",
      retry: { attempts: 3, sleep: async () => {} },
      observe: (e) => events.push(e),
    }) as LazyMount;
    await mount.putStream!("big", bytesSource(new Uint8Array(1000).fill(1)));
    expect(inner.store.get("big")?.bytes.length).toBe(1000);
    expect(faults.calls.put).toBe(2);
    const done = events.filter((e) => e.retryInMs === undefined);
    expect(done.map((e) => [e.op, e.path, e.bytes, e.attempt])).toEqual([["put", "big", 1000, 2]]);
    const ro = applyLayers(MemoryMount(), { root: "/ro" }) as LazyMount;
    await expect(ro.putStream!("x", bytesSource(new Uint8Array(1)))).rejects.toMatchObject({ code: "EROFS" });
  });
});
