import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EtagColumn } from "./etag-column.js";

describe("EtagColumn", () => {
  it("gives back exactly what was set, whatever its shape", () => {
    const md5 = "0123456789abcdef0123456789abcdef";
    const cases = [
      undefined,
      `"${md5}"`,
      md5,
      `"${md5.toUpperCase()}"`,
      `"${md5}-3"`,
      'W/"abc"',
      `"${md5.slice(0, 31)}g"`,
      `"${md5}`,
      "",
      '"5f3a1c2b-1000"',
    ];
    const col = new EtagColumn(cases.length);
    for (const [i, etag] of cases.entries()) col.set(i, etag);
    cases.forEach((etag, i) => {
      expect(col.get(i)).toBe(etag);
      expect(col.has(i)).toBe(etag !== undefined);
    });
    // Overwriting a slot of one shape with another.
    col.set(1, "plain");
    col.set(4, `"${md5}"`);
    expect(col.get(1)).toBe("plain");
    expect(col.get(4)).toBe(`"${md5}"`);
  });

  it("round-trips any string (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.option(
            fc.oneof(
              fc.string(),
              fc.stringMatching(/^[0-9a-f]{32}$/),
              fc.stringMatching(/^"[0-9a-fA-F]{32}"$/),
            ),
            { nil: undefined },
          ),
        ),
        (etags) => {
          const col = new EtagColumn(etags.length);
          for (const [i, e] of etags.entries()) col.set(i, e);
          expect(etags.map((_, i) => col.get(i))).toEqual(etags);
        },
      ),
    );
  });
});
