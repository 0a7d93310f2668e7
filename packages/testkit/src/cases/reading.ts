import { check, checkBytes, checkEqual, rejects, sha256 } from "../assert.js";
import { binaryBytes, text } from "../bytes.js";
import type { ConformanceCase } from "../case.js";

/** Byte-exact and fresh: offset 0, owns its whole buffer (not a view into a pool), a plain Uint8Array. */
export function checkExactView(bytes: unknown, what: string): asserts bytes is Uint8Array {
  check(bytes instanceof Uint8Array, `${what}: fetch must return a Uint8Array`);
  check(
    bytes.byteOffset === 0,
    `${what}: byteOffset is ${bytes.byteOffset}, not 0 (a view into a shared buffer)`,
  );
  check(
    bytes.buffer.byteLength === bytes.length,
    `${what}: the underlying buffer holds ${bytes.buffer.byteLength} bytes for a ${bytes.length}-byte file (a pooled view)`,
  );
}

export const SIZE_LADDER: readonly number[] = [
  1, 2, 255, 256, 1023, 1024, 4095, 4096, 65_535, 65_536, 65_537, 262_145,
];

const MiB = 1024 * 1024;

/** Sizes at and past 1 MiB, where chunked readers and multipart writers change code path. */
export const LARGE_SIZES: readonly number[] = [MiB, MiB + 1, 3 * MiB + 7];

export const readingCases: readonly ConformanceCase[] = [
  {
    id: "read.binary-sha256",
    group: "reading",
    strategy: "lazy",
    title: "random binary with invalid UTF-8 comes back identical (sha256)",
    async run(t) {
      const bytes = binaryBytes(100_003, 7);
      await t.seed({ "blob.bin": bytes });
      const got = await (await t.lazy()).fetch("blob.bin");
      check(got instanceof Uint8Array, "fetch must return a Uint8Array");
      checkEqual(
        { length: got.length, sha256: sha256(got) },
        { length: bytes.length, sha256: sha256(bytes) },
        "blob.bin",
      );
    },
  },
  {
    id: "read.empty-file",
    group: "reading",
    strategy: "lazy",
    title: "an empty file is a zero-length Uint8Array, listed with size 0",
    async run(t) {
      await t.seed({ "empty.txt": new Uint8Array(0) });
      const mount = await t.lazy();
      const got = await mount.fetch("empty.txt");
      check(got instanceof Uint8Array, `fetch of an empty file must return a Uint8Array, got ${String(got)}`);
      check(got.length === 0, `fetch of an empty file returned ${got.length} bytes`);
      const entries = await mount.list();
      checkEqual(
        entries.map((e) => [e.path, e.size]),
        [["empty.txt", 0]],
        "listing of one empty file",
      );
    },
  },
  {
    id: "read.size-ladder",
    group: "reading",
    strategy: "lazy",
    title: "sizes around powers of two come back exactly",
    async run(t) {
      const files: Record<string, Uint8Array> = {};
      for (const size of SIZE_LADDER) files[`ladder/${size}.bin`] = binaryBytes(size, size);
      await t.seed(files);
      const mount = await t.lazy();
      for (const [path, bytes] of Object.entries(files))
        checkBytes(await mount.fetch(path), bytes, `fetch ${path}`);
    },
  },
  {
    id: "read.missing",
    group: "reading",
    strategy: "lazy",
    title: "a missing file rejects ENOENT (never empty bytes)",
    async run(t) {
      await t.seed({ "present.txt": text("x") });
      const mount = await t.lazy();
      await rejects(() => mount.fetch("absent.txt"), ["ENOENT"], "fetch absent.txt");
    },
  },
  {
    id: "read.directory-path",
    group: "reading",
    strategy: "lazy",
    title: "fetching a directory path rejects (EISDIR or ENOENT), never returns bytes",
    async run(t) {
      await t.seed({ "dir/file.txt": text("x") });
      const mount = await t.lazy();
      await rejects(() => mount.fetch("dir"), ["EISDIR", "ENOENT"], "fetch dir");
    },
  },
  {
    id: "read.exact-views",
    group: "reading",
    strategy: "lazy",
    title: "fetch returns a fresh, exact Uint8Array: offset 0, own buffer, not shared between calls",
    async run(t) {
      const small = text("small file, small enough for a pooled Buffer");
      await t.seed({ "small.txt": small, "other.txt": text("other") });
      const mount = await t.lazy();
      const a = await mount.fetch("small.txt");
      checkExactView(a, "small.txt");
      const b = await mount.fetch("small.txt");
      checkExactView(b, "small.txt (second fetch)");
      check(
        a.buffer !== b.buffer,
        "two fetches share one ArrayBuffer: a caller mutating one changes the other",
      );
      a.fill(0);
      checkBytes(await mount.fetch("small.txt"), small, "fetch after mutating an earlier result");
      checkBytes(b, small, "the second result after mutating the first");
    },
  },
  {
    id: "read.large",
    group: "reading",
    strategy: "lazy",
    requires: ["largeFiles"],
    title: "files of 1 MiB and more: listed size, fetched bytes (sha256) and length are exact",
    async run(t) {
      const files: Record<string, Uint8Array> = {};
      for (const size of LARGE_SIZES) files[`large/${size}.bin`] = binaryBytes(size, size);
      await t.seed(files);
      const mount = await t.lazy();
      const listed = new Map((await mount.list()).map((e) => [e.path, e.size]));
      for (const [path, bytes] of Object.entries(files)) {
        check(
          listed.get(path) === bytes.length,
          `${path}: listed size ${String(listed.get(path))}, stored ${bytes.length} bytes`,
        );
        const got = await mount.fetch(path);
        check(got instanceof Uint8Array, `${path}: fetch must return a Uint8Array`);
        checkEqual(
          { length: got.length, sha256: sha256(got) },
          { length: bytes.length, sha256: sha256(bytes) },
          `fetch ${path}`,
        );
      }
    },
  },
];
