import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NumberColumn } from "./number-column.js";

describe("NumberColumn", () => {
  it("keeps every value exactly, narrow while values fit and wide after", () => {
    for (const kind of ["size", "mtime"] as const) {
      const values = [
        0,
        4096,
        Number.NaN,
        1_764_000_000_000,
        2 ** 32 - 2,
        1.5,
        2 ** 40,
        -1,
        1_764_000_000_123,
      ];
      const col = new NumberColumn(values.length, kind);
      for (const [i, v] of values.entries()) col.set(i, v);
      expect(values.map((_, i) => col.get(i))).toEqual(values);
    }
  });

  it("round-trips any sequence of numbers (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("size" as const, "mtime" as const),
        fc.array(
          fc.oneof(
            fc.integer({ min: 0, max: 2 ** 32 }),
            fc.integer({ min: 0, max: 4_000_000 }).map((s) => s * 1000),
            fc.double(),
            fc.constant(Number.NaN),
          ),
        ),
        (kind, values) => {
          const col = new NumberColumn(values.length, kind);
          for (const [i, v] of values.entries()) col.set(i, v);
          expect(values.map((_, i) => col.get(i))).toEqual(values);
        },
      ),
    );
  });
});
