import { describe, expect, it } from "vitest";
import { MountError } from "./errors.js";
import { checkQuota, QuotaCounter } from "./quota.js";

function quotaError(fn: () => unknown): MountError {
  try {
    fn();
  } catch (error) {
    if (MountError.hasCode(error, "EDQUOT")) return error;
    throw error;
  }
  throw new Error("expected EDQUOT");
}

const files = (sizes: number[]) => sizes.map((size, i) => ({ path: `f${i}`, size }));

describe("checkQuota", () => {
  it("passes at the limit and reports usage", () => {
    expect(checkQuota(files([4, 6]), { maxBytes: 10, maxEntries: 2 }, "/m")).toEqual({
      bytes: 10,
      entries: 2,
    });
    expect(checkQuota(files([1, 2, 3]), {})).toEqual({ bytes: 6, entries: 3 });
  });

  it("throws EDQUOT one byte over, naming the limit, the observed value and the root", () => {
    const error = quotaError(() => checkQuota(files([4, 7]), { maxBytes: 10 }, "/workspace/data"));
    expect(error.quota).toEqual({ limit: "maxBytes", max: 10, observed: 11 });
    expect(error.root).toBe("/workspace/data");
    expect(error.message).toMatch(/mount \/workspace\/data exceeds maxBytes: 11 bytes > limit 10 bytes/);
    expect(error.message).toMatch(/raise maxBytes/);
  });

  it("throws EDQUOT one entry over", () => {
    const error = quotaError(() => checkQuota(files([0, 0, 0]), { maxEntries: 2 }, "/m"));
    expect(error.quota).toEqual({ limit: "maxEntries", max: 2, observed: 3 });
  });

  it("treats zero as a real limit", () => {
    expect(checkQuota([], { maxEntries: 0, maxBytes: 0 })).toEqual({ bytes: 0, entries: 0 });
    expect(quotaError(() => checkQuota(files([0]), { maxEntries: 0 })).quota?.observed).toBe(1);
  });
});

describe("QuotaCounter", () => {
  it("counts additions, rewrites and removals", () => {
    const counter = new QuotaCounter({ maxBytes: 10, maxEntries: 2 }, "/m");
    counter.add(4, "/m/a");
    counter.add(6, "/m/b");
    expect([counter.bytes, counter.entries]).toEqual([10, 2]);
    counter.replace(6, 2, "/m/b");
    expect(counter.bytes).toBe(6);
    counter.remove(4);
    expect([counter.bytes, counter.entries]).toEqual([2, 1]);
  });

  it("refuses an operation that would exceed a limit and leaves usage unchanged", () => {
    const counter = new QuotaCounter({ maxBytes: 10, maxEntries: 1 }, "/m");
    counter.add(8, "/m/a");
    const tooMany = quotaError(() => counter.add(1, "/m/b"));
    expect(tooMany.quota?.limit).toBe("maxEntries");
    expect(tooMany.path).toBe("/m/b");
    const tooBig = quotaError(() => counter.replace(8, 11, "/m/a"));
    expect(tooBig.quota).toEqual({ limit: "maxBytes", max: 10, observed: 11 });
    expect([counter.bytes, counter.entries]).toEqual([8, 1]);
  });

  it("always allows shrinking, even when already over (a lowered limit must not block clean-up)", () => {
    const counter = new QuotaCounter({ maxBytes: 5 }, "/m", { bytes: 9, entries: 1 });
    expect(() => counter.replace(9, 7)).not.toThrow();
    expect(() => counter.remove(7)).not.toThrow();
    expect(counter.bytes).toBe(0);
  });

  it("applies net changes at once with adjust(), or refuses them whole", () => {
    const counter = new QuotaCounter({ maxBytes: 10, maxEntries: 3 }, "/m");
    counter.adjust(6, 2);
    expect([counter.bytes, counter.entries]).toEqual([6, 2]);
    expect(quotaError(() => counter.adjust(5, 1, "/m/x")).quota?.limit).toBe("maxBytes");
    expect(quotaError(() => counter.adjust(0, 2)).quota?.limit).toBe("maxEntries");
    expect([counter.bytes, counter.entries]).toEqual([6, 2]);
    counter.adjust(-6, -2);
    expect([counter.bytes, counter.entries]).toEqual([0, 0]);
  });
});
