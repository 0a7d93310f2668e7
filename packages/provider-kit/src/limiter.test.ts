import { describe, expect, it } from "vitest";
import { createLimiter, mapConcurrent } from "./limiter.js";

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("createLimiter", () => {
  it("never runs more than the limit at once, and runs everything in order", async () => {
    const limiter = createLimiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        limiter.run(async () => {
          running++;
          peak = Math.max(peak, running);
          order.push(i);
          await tick();
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(limiter.active).toBe(0);
    expect(limiter.pending).toBe(0);
  });

  it("frees the slot when a function rejects, and reports active and pending", async () => {
    const limiter = createLimiter(1);
    const failing = limiter.run(async () => {
      await tick();
      throw new Error("x");
    });
    const next = limiter.run(async () => "ok");
    expect(limiter.active).toBe(1);
    expect(limiter.pending).toBe(1);
    await expect(failing).rejects.toThrow("x");
    await expect(next).resolves.toBe("ok");
    expect(limiter.active).toBe(0);
  });

  it("refuses a limit that cannot make progress", () => {
    expect(() => createLimiter(0)).toThrow(/EINVAL/);
  });
});

describe("mapConcurrent", () => {
  it("keeps input order with at most `limit` in flight", async () => {
    let running = 0;
    let peak = 0;
    const out = await mapConcurrent([30, 5, 20, 1, 10], 3, async (ms, i) => {
      running++;
      peak = Math.max(peak, running);
      await tick(ms);
      running--;
      return i * 10;
    });
    expect(out).toEqual([0, 10, 20, 30, 40]);
    expect(peak).toBe(3);
  });

  it("rejects with the first error only after work in flight has settled, and starts nothing new", async () => {
    const started: number[] = [];
    let settled = 0;
    const promise = mapConcurrent([0, 1, 2, 3, 4, 5], 2, async (i) => {
      started.push(i);
      if (i === 0) {
        await tick(1);
        throw new Error("first");
      }
      await tick(20);
      settled++;
      return i;
    });
    await expect(promise).rejects.toThrow("first");
    // Item 1 was in flight when 0 failed: it finished before the rejection.
    expect(settled).toBe(started.length - 1);
    expect(started).toEqual([0, 1]);
  });

  it("handles an empty list and iterables", async () => {
    expect(await mapConcurrent([], 4, async () => 1)).toEqual([]);
    expect(await mapConcurrent(new Set([1, 2]), 4, async (x) => x * 2)).toEqual([2, 4]);
  });
});
