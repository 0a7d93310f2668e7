import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Sha1 } from "./sha1.js";

/** Bytes that are the same on every run (a test that fails must fail again). */
function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    out[i] = x >>> 24;
  }
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("Sha1 (16-bit halves, digest into the caller's array)", () => {
  it("equals node:crypto for every length around the block and padding edges", () => {
    const sha1 = new Sha1();
    const out = new Uint8Array(25);
    for (let length = 0; length <= 300; length++) {
      const data = bytes(length + 8, length);
      sha1.update(data, 5, length);
      sha1.digestInto(out, 3);
      const want = createHash("sha1")
        .update(data.subarray(5, 5 + length))
        .digest("hex");
      expect(hex(out.subarray(3, 23)), `length ${length}`).toBe(want);
    }
  });

  it("gives the same digest however the input is cut (update, byte), and starts over after a digest", () => {
    const data = bytes(200_000, 7);
    const want = createHash("sha1").update(data).digest("hex");
    const sha1 = new Sha1();
    const out = new Uint8Array(20);
    for (const cut of [0, 1, 55, 56, 63, 64, 65, 127, 128, 4099]) {
      sha1.update(data, 0, cut);
      sha1.byte(data[cut] as number);
      sha1.update(data, cut + 1, data.length - cut - 1);
      sha1.digestInto(out, 0);
      expect(hex(out), `cut at ${cut}`).toBe(want);
    }
    // git's id of the empty blob: the header alone.
    for (const c of Buffer.from("blob 0\0")) sha1.byte(c);
    sha1.digestInto(out, 0);
    expect(hex(out)).toBe("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
  });
});
