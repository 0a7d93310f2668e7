import { describe, expect, it } from "vitest";
import { concatBytes } from "./bytes.js";

describe("concatBytes", () => {
  it("joins chunks in order into a new array, also for one chunk, and makes an empty array of none", () => {
    const one = new Uint8Array([1, 2]);
    const joined = concatBytes([one]);
    expect(joined).not.toBe(one);
    expect([...joined]).toEqual([1, 2]);
    expect([...concatBytes([one, new Uint8Array(0), new Uint8Array([3])])]).toEqual([1, 2, 3]);
    expect(concatBytes([]).length).toBe(0);
  });
});
