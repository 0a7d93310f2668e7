import { MemoryMount, MemoryStore } from "@ws/core";
import { describe, expect, it } from "vitest";
import { cacheBudgetModel } from "./cache-model.js";

describe("cacheBudgetModel over MemoryMount", () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: reads equal the model, dirty files stay, resident within budget + largest file`, async () => {
      const result = await cacheBudgetModel({
        seed,
        ops: 500,
        async setup(files) {
          const store = new MemoryStore(files);
          return () => MemoryMount({ store, mode: "read-write", writeBack: "manual" });
        },
      });
      expect(result.evictions).toBeGreaterThan(0);
      expect(result.rangedReads).toBeGreaterThan(0);
    });
  }

  it("fails when a file read again after its eviction differs (the model can fail)", async () => {
    // A provider that serves a changed byte from the second fetch of a path on.
    await expect(
      cacheBudgetModel({
        seed: 5,
        ops: 300,
        async setup(files) {
          const store = new MemoryStore(files);
          const seen = new Set<string>();
          return () => {
            const base = MemoryMount({ store, mode: "read-write", writeBack: "manual" });
            const { fetchWithInfo: _info, ...plain } = base;
            return {
              ...plain,
              async fetch(path: string) {
                const bytes = await base.fetch(path);
                if (seen.has(path) && bytes.length > 0) bytes[0] = (bytes[0]! + 1) & 0xff;
                seen.add(path);
                return bytes;
              },
            };
          };
        },
      }),
    ).rejects.toThrow(/readFile/);
  });

  it("fails on a workspace that loses a write (the model can fail)", async () => {
    // A provider that acknowledges puts without storing them: the read-back after close differs.
    await expect(
      cacheBudgetModel({
        seed: 4,
        ops: 200,
        async setup(files) {
          const store = new MemoryStore(files);
          return () => {
            const base = MemoryMount({ store, mode: "read-write", writeBack: "manual" });
            return { ...base, put: async () => ({}) };
          };
        },
      }),
    ).rejects.toThrow(/after close/);
  });
});
