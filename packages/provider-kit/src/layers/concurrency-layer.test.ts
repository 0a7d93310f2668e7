import { type LazyMount, MemoryMount } from "@ws/core";
import { describe, expect, it } from "vitest";
import { createLimiter } from "../limiter.js";
import { faultLayer } from "../test/fault-layer.js";
import { concurrencyLayer } from "./concurrency-layer.js";
import { interceptMount } from "./wrap-mount.js";

const ctx = { root: "/m" };

function tracked() {
  const state = { running: 0, peak: 0 };
  const slow = faultLayer([{ latencyMs: 10 }]);
  const base = slow(MemoryMount({ mode: "read-write", files: { a: "1", b: "2", c: "3" } }), ctx);
  const mount = interceptMount(base, async (_op, _path, call) => {
    state.running++;
    state.peak = Math.max(state.peak, state.running);
    try {
      return await call();
    } finally {
      state.running--;
    }
  });
  return { state, mount };
}

describe("concurrencyLayer", () => {
  it("holds list, fetch, put and delete to one budget per mount", async () => {
    const { state, mount } = tracked();
    const layered = concurrencyLayer(2)(mount, ctx) as LazyMount;
    await Promise.all([
      layered.list(),
      layered.fetch("a"),
      layered.fetch("b"),
      layered.put?.("d", new Uint8Array([1])),
      layered.delete?.("c"),
      layered.fetch("a"),
    ]);
    expect(state.peak).toBe(2);
  });

  it("shares a Limiter between mounts when given one", async () => {
    const one = tracked();
    const two = tracked();
    const limiter = createLimiter(1);
    const a = concurrencyLayer(limiter)(one.mount, ctx) as LazyMount;
    const b = concurrencyLayer(limiter)(two.mount, ctx) as LazyMount;
    let overlap = 0;
    const watch = setInterval(() => {
      if (one.state.running + two.state.running > 1) overlap++;
    }, 1);
    await Promise.all([a.fetch("a"), b.fetch("b"), a.fetch("b"), b.fetch("a")]);
    clearInterval(watch);
    expect(overlap).toBe(0);
    expect(limiter.active).toBe(0);
  });
});
