import type { LazyMount, PutSource } from "@ws/core";
import { check, checkEqual, fail, sha256 } from "../assert.js";
import { binaryBytes } from "../bytes.js";
import type { CaseContext, ConformanceCase } from "../case.js";

type Streaming = LazyMount & Required<Pick<LazyMount, "putStream">>;

const MiB = 1024 * 1024;

/** The writable mount under test, which must have `putStream` since `streamedWrites` is declared. */
async function streaming(t: CaseContext): Promise<Streaming> {
  const mount = await t.writable();
  if (typeof mount.putStream !== "function") {
    fail("capability streamedWrites is declared, but the mount has no putStream()");
  }
  return mount as Streaming;
}

/**
 * `size` bytes whose data (a seeded pattern) is only in `extents`, zeros elsewhere; every range
 * the provider reads is recorded, so a case can tell that holes were never read.
 */
function sparseSource(
  size: number,
  extents: Array<[number, number]> | undefined,
): { source: PutSource; whole: Uint8Array; reads: Array<[number, number]> } {
  const whole = new Uint8Array(size);
  const pattern = binaryBytes(size, 53);
  for (const [start, end] of extents ?? [[0, size]]) whole.set(pattern.subarray(start, end), start);
  const reads: Array<[number, number]> = [];
  const source: PutSource = {
    size,
    ...(extents ? { extents } : {}),
    async read(start, end) {
      reads.push([start, end]);
      return whole.slice(start, end);
    },
  };
  return { source, whole, reads };
}

async function checkStored(t: CaseContext, mount: Streaming, path: string, whole: Uint8Array): Promise<void> {
  const stored = await t.harness.readBackend(path);
  check(stored !== undefined, `the backend holds nothing at ${path} after putStream`);
  checkEqual(
    { length: stored.length, sha256: sha256(stored) },
    { length: whole.length, sha256: sha256(whole) },
    `backend after putStream of ${path}`,
  );
  const entry = (await mount.list()).find((e) => e.path === path);
  check(
    entry?.size === whole.length,
    `listed size ${String(entry?.size)} after a ${whole.length}-byte putStream`,
  );
}

export const streamingCases: readonly ConformanceCase[] = [
  {
    id: "write.stream.round-trip",
    group: "writing",
    strategy: "lazy",
    requires: ["write", "streamedWrites"],
    title: "putStream of a source read part by part stores it whole (past 5 MiB, where S3 parts start)",
    async run(t) {
      const mount = await streaming(t);
      const { source, whole } = sparseSource(6 * MiB + 5, undefined);
      await mount.putStream("stream/dense.bin", source);
      await checkStored(t, mount, "stream/dense.bin", whole);
    },
  },
  {
    id: "write.stream.sparse",
    group: "writing",
    strategy: "lazy",
    requires: ["write", "streamedWrites"],
    title: "putStream of a sparse source stores zeros for its holes and never reads them",
    async run(t) {
      const mount = await streaming(t);
      const extents: Array<[number, number]> = [
        [0, 100],
        [5 * MiB - 3, 5 * MiB + 10],
      ];
      const { source, whole, reads } = sparseSource(6 * MiB + 5, extents);
      await mount.putStream("stream/sparse.bin", source);
      await checkStored(t, mount, "stream/sparse.bin", whole);
      const outside = reads.filter(([s, e]) => !extents.some(([a, b]) => s >= a && e <= b));
      checkEqual(outside, [], "ranges read outside the source's extents (holes must not be read)");
    },
  },
  {
    id: "write.stream.unsupported",
    group: "writing",
    strategy: "lazy",
    whenUnsupported: "streamedWrites",
    title: "a mount that declares no streamedWrites has no putStream (hosts then put files whole)",
    async run(t) {
      const mount = await t.lazy();
      if (typeof mount.putStream === "function") {
        fail("the mount has putStream() but does not declare streamedWrites: declare it so it is checked");
      }
    },
  },
];
