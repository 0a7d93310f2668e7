import type { LazyMount } from "@ws/core";
import { check, checkBytes, checkEqual, fail, rejects, sha256 } from "../assert.js";
import { binaryBytes, text } from "../bytes.js";
import type { CaseContext, ConformanceCase } from "../case.js";
import { checkExactView } from "./reading.js";

type Ranged = LazyMount & Required<Pick<LazyMount, "fetchRange">>;

const MiB = 1024 * 1024;

/** The mount under test, which must have `fetchRange` since `rangedReads` is declared. */
async function ranged(t: CaseContext): Promise<Ranged> {
  const mount = await t.lazy();
  if (typeof mount.fetchRange !== "function") {
    fail("capability rangedReads is declared, but the mount has no fetchRange()");
  }
  return mount as Ranged;
}

/** `fetchRange` gave exactly `expected` (as a fresh, exact array). */
async function checkRange(
  mount: Ranged,
  path: string,
  start: number,
  end: number,
  expected: Uint8Array,
): Promise<void> {
  const what = `fetchRange(${path}, ${start}, ${end})`;
  const got = await mount.fetchRange(path, start, end);
  checkExactView(got, what);
  checkBytes(got, expected, what);
}

export const rangeCases: readonly ConformanceCase[] = [
  {
    id: "read.range.first-byte",
    group: "reading",
    strategy: "lazy",
    requires: ["rangedReads"],
    title: "fetchRange(path, 0, 1) is the first byte alone (end is exclusive)",
    async run(t) {
      const bytes = binaryBytes(4099, 11);
      await t.seed({ "r.bin": bytes });
      const mount = await ranged(t);
      await checkRange(mount, "r.bin", 0, 1, bytes.subarray(0, 1));
      await checkRange(mount, "r.bin", 0, 16, bytes.subarray(0, 16));
      await checkRange(mount, "r.bin", 1000, 1024, bytes.subarray(1000, 1024));
    },
  },
  {
    id: "read.range.last-byte",
    group: "reading",
    strategy: "lazy",
    requires: ["rangedReads"],
    title: "fetchRange(path, size - 1, size) is the last byte; an end past the size is clipped",
    async run(t) {
      const bytes = binaryBytes(4099, 12);
      await t.seed({ "r.bin": bytes });
      const mount = await ranged(t);
      const size = bytes.length;
      await checkRange(mount, "r.bin", size - 1, size, bytes.subarray(size - 1));
      await checkRange(mount, "r.bin", size - 1, size + 100, bytes.subarray(size - 1));
      await checkRange(mount, "r.bin", size - 10, size * 4, bytes.subarray(size - 10));
    },
  },
  {
    id: "read.range.empty",
    group: "reading",
    strategy: "lazy",
    requires: ["rangedReads"],
    title: "end <= start gives an empty array (never the rest of the file)",
    async run(t) {
      const bytes = text("0123456789abcdef");
      await t.seed({ "r.txt": bytes });
      const mount = await ranged(t);
      for (const [start, end] of [
        [5, 5],
        [0, 0],
        [9, 3],
      ] as const) {
        const got = await mount.fetchRange("r.txt", start, end);
        check(got instanceof Uint8Array, `fetchRange(r.txt, ${start}, ${end}) must return a Uint8Array`);
        check(
          got.length === 0,
          `fetchRange(r.txt, ${start}, ${end}) returned ${got.length} bytes, expected none`,
        );
      }
    },
  },
  {
    id: "read.range.past-end",
    group: "reading",
    strategy: "lazy",
    requires: ["rangedReads"],
    title: "a range starting at or past the end is empty, not an error (an empty file too)",
    async run(t) {
      const bytes = text("0123456789");
      await t.seed({ "r.txt": bytes, "empty.txt": new Uint8Array(0) });
      const mount = await ranged(t);
      for (const [path, start, end] of [
        ["r.txt", 10, 20],
        ["r.txt", 11, 12],
        ["r.txt", 1000, 2000],
        ["empty.txt", 0, 1],
        ["empty.txt", 0, 4096],
      ] as const) {
        const got = await mount.fetchRange(path, start, end);
        check(got instanceof Uint8Array, `fetchRange(${path}, ${start}, ${end}) must return a Uint8Array`);
        check(got.length === 0, `fetchRange(${path}, ${start}, ${end}) returned ${got.length} bytes`);
      }
    },
  },
  {
    id: "read.range.large",
    group: "reading",
    strategy: "lazy",
    requires: ["rangedReads", "largeFiles"],
    title: "ranges of a file over 1 MiB: across the 1 MiB boundary, the tail, and the whole file (sha256)",
    async run(t) {
      const bytes = binaryBytes(3 * MiB + 7, 13);
      await t.seed({ "large.bin": bytes });
      const mount = await ranged(t);
      for (const [start, end] of [
        [MiB - 3, 2 * MiB + 5],
        [3 * MiB, 3 * MiB + 7],
        [0, bytes.length],
      ] as const) {
        const got = await mount.fetchRange("large.bin", start, end);
        checkExactView(got, `fetchRange(large.bin, ${start}, ${end})`);
        const want = bytes.subarray(start, end);
        checkEqual(
          { length: got.length, sha256: sha256(got) },
          { length: want.length, sha256: sha256(want) },
          `fetchRange(large.bin, ${start}, ${end})`,
        );
      }
    },
  },
  {
    id: "read.range.into",
    group: "reading",
    strategy: "lazy",
    requires: ["rangedReads"],
    title:
      "fetchRange(path, start, end, into): the same bytes, written into the caller's buffer or fresh; a buffer too short is left alone",
    async run(t) {
      const bytes = binaryBytes(600_000, 14);
      await t.seed({ "r.bin": bytes });
      const mount = await ranged(t);
      const size = bytes.length;
      // Reused across calls, as a reader's window is: each result must be this call's bytes.
      const into = new Uint8Array(400_000).fill(0xa5);
      for (const [start, end] of [
        [0, 16],
        [1000, 301_000],
        [size - 10, size + 100],
        [5, 6],
        [size, size + 10],
      ] as const) {
        const what = `fetchRange(r.bin, ${start}, ${end}, into)`;
        const got = await mount.fetchRange("r.bin", start, end, into);
        check(got instanceof Uint8Array, `${what} must return a Uint8Array`);
        if (got.buffer === into.buffer) {
          check(got.byteOffset === into.byteOffset, `${what}: a view of into must start at its offset 0`);
        } else if (got.length > 0) {
          checkExactView(got, what);
        }
        checkBytes(got, bytes.subarray(Math.min(start, size), Math.min(end, size)), what);
      }
      const short = new Uint8Array(8).fill(0x5a);
      const got = await mount.fetchRange("r.bin", 100, 200, short);
      checkBytes(got, bytes.subarray(100, 200), "fetchRange(r.bin, 100, 200, an 8-byte buffer)");
      check(
        short.every((b) => b === 0x5a),
        "fetchRange(r.bin, 100, 200, an 8-byte buffer) wrote into a buffer too short for the range",
      );
    },
  },
  {
    id: "read.range.errors",
    group: "reading",
    strategy: "lazy",
    requires: ["rangedReads"],
    title: "negative or non-integer offsets reject EINVAL; a missing file rejects ENOENT",
    async run(t) {
      await t.seed({ "r.txt": text("0123456789") });
      const mount = await ranged(t);
      for (const [start, end] of [
        [-1, 4],
        [0, -5],
        [1.5, 4],
        [0, 2.5],
        [Number.NaN, 4],
        [0, Number.POSITIVE_INFINITY],
      ] as const) {
        await rejects(
          () => mount.fetchRange("r.txt", start, end),
          ["EINVAL"],
          `fetchRange(r.txt, ${start}, ${end})`,
        );
      }
      await rejects(() => mount.fetchRange("absent.txt", 0, 4), ["ENOENT"], "fetchRange(absent.txt, 0, 4)");
    },
  },
  {
    id: "read.range.unsupported",
    group: "reading",
    strategy: "lazy",
    whenUnsupported: "rangedReads",
    title: "a mount without declared ranged reads has no fetchRange (declarations cannot drift)",
    async run(t) {
      const mount = await t.lazy();
      check(
        typeof mount.fetchRange !== "function",
        "the mount has fetchRange() but rangedReads is not declared: declare it to have the range cases run",
      );
    },
  },
];
