import { check, checkBytes, checkEqual, fail, rejects, sha256, sorted } from "../assert.js";
import { binaryBytes, text } from "../bytes.js";
import type { CaseContext, ConformanceCase } from "../case.js";

/** A snapshot of the backend (keys and bytes) read through the harness, to prove it was not touched. */
export async function backendSnapshot(t: CaseContext): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of sorted(await t.harness.listBackend())) {
    const bytes = await t.harness.readBackend(key);
    out[key] = bytes === undefined ? "<absent>" : Buffer.from(bytes).toString("base64");
  }
  return out;
}

export const REFUSED_WRITE_CODES: readonly string[] = ["EROFS", "ENOTSUP", "EPERM"];

export const writingCases: readonly ConformanceCase[] = [
  {
    id: "write.round-trip",
    group: "writing",
    strategy: "lazy",
    requires: ["write"],
    title: "put then read the backend directly and fetch: identical bytes",
    async run(t) {
      const mount = await t.writable();
      const bytes = binaryBytes(4099, 3);
      await mount.put("out/data.bin", bytes);
      checkBytes(await t.harness.readBackend("out/data.bin"), bytes, "backend after put");
      checkBytes(await mount.fetch("out/data.bin"), bytes, "fetch after put");
    },
  },
  {
    id: "write.overwrite-shorter",
    group: "writing",
    strategy: "lazy",
    requires: ["write"],
    title: "overwriting with shorter content leaves no tail of the old content",
    async run(t) {
      await t.seed({ "f.txt": text("a long original content, 46 bytes of it......") });
      const mount = await t.writable();
      await mount.put("f.txt", text("short"));
      checkBytes(await t.harness.readBackend("f.txt"), text("short"), "backend after overwrite");
      checkBytes(await mount.fetch("f.txt"), text("short"), "fetch after overwrite");
    },
  },
  {
    id: "write.missing-parents",
    group: "writing",
    strategy: "lazy",
    requires: ["write"],
    title: "put creates missing parents",
    async run(t) {
      const mount = await t.writable();
      await mount.put("a/b/c/d.txt", text("deep"));
      checkBytes(await t.harness.readBackend("a/b/c/d.txt"), text("deep"), "backend a/b/c/d.txt");
    },
  },
  {
    id: "write.empty",
    group: "writing",
    strategy: "lazy",
    requires: ["write"],
    title: "putting zero bytes stores an empty object (not nothing)",
    async run(t) {
      const mount = await t.writable();
      await mount.put("empty.txt", new Uint8Array(0));
      const stored = await t.harness.readBackend("empty.txt");
      check(stored !== undefined, "put of empty content stored nothing");
      check(stored.length === 0, `put of empty content stored ${stored.length} bytes`);
    },
  },
  {
    id: "write.stored-key",
    group: "writing",
    strategy: "lazy",
    requires: ["write"],
    title: "the backend key is exactly the relative path: no encoding, no normalisation",
    async run(t) {
      const mount = await t.writable();
      const path = "dir/a b+c%20d#e?f.txt";
      await mount.put(path, text("k"));
      checkEqual(sorted(await t.harness.listBackend()), [path], "backend keys after one put");
    },
  },
  {
    id: "write.read-only",
    group: "writing",
    title: "a read-only mount refuses put and delete with EROFS and leaves the backend untouched",
    async run(t) {
      await t.seed({ "keep.txt": text("keep") });
      const before = await backendSnapshot(t);
      const mount = await t.mount({ mode: "read-only" });
      check(mount.writable === false, "a read-only mount reports writable: true");
      if (typeof mount.put === "function") {
        const put = mount.put.bind(mount);
        await rejects(() => put("keep.txt", text("changed")), ["EROFS"], "put on a read-only mount");
        await rejects(() => put("new.txt", text("new")), ["EROFS"], "put of a new file on a read-only mount");
      }
      if (typeof mount.delete === "function") {
        const del = mount.delete.bind(mount);
        await rejects(() => del("keep.txt"), ["EROFS"], "delete on a read-only mount");
      }
      checkEqual(await backendSnapshot(t), before, "backend after refused writes");
    },
  },
  {
    id: "write.unsupported",
    group: "writing",
    whenUnsupported: "write",
    title: "without the write capability, a read-write mount still refuses put cleanly",
    async run(t) {
      await t.seed({ "keep.txt": text("keep") });
      const before = await backendSnapshot(t);
      const mount = await t.mount({ mode: "read-write" });
      if (typeof mount.put === "function") {
        const put = mount.put.bind(mount);
        await rejects(
          () => put("new.txt", text("new")),
          REFUSED_WRITE_CODES,
          "put without the write capability",
        );
      }
      checkEqual(await backendSnapshot(t), before, "backend after a refused put");
    },
  },
  {
    id: "write.conditional",
    group: "writing",
    strategy: "lazy",
    requires: ["write", "conditionalPut"],
    title: 'ifNoneMatch "*" and ifMatch are honoured (EEXIST, ESTALE)',
    async run(t) {
      await t.seed({ "c.txt": text("v1") });
      const mount = await t.writable();
      await rejects(
        () => mount.put("c.txt", text("v2"), { ifNoneMatch: "*" }),
        ["EEXIST"],
        "ifNoneMatch on an existing file",
      );
      checkBytes(await t.harness.readBackend("c.txt"), text("v1"), "backend after a refused ifNoneMatch");
      await mount.put("new.txt", text("n"), { ifNoneMatch: "*" });
      checkBytes(await t.harness.readBackend("new.txt"), text("n"), "ifNoneMatch on a new file");
      await rejects(
        () => mount.put("c.txt", text("v2"), { ifMatch: '"not-the-etag"' }),
        ["ESTALE"],
        "ifMatch with a stale etag",
      );
      checkBytes(await t.harness.readBackend("c.txt"), text("v1"), "backend after a refused ifMatch");
      const etag = (await mount.list()).find((e) => e.path === "c.txt")?.etag;
      check(typeof etag === "string", "list() must report an etag for conditional puts");
      await mount.put("c.txt", text("v2"), { ifMatch: etag });
      checkBytes(await t.harness.readBackend("c.txt"), text("v2"), "ifMatch with the current etag");
    },
  },
  {
    id: "write.conditional.unsupported",
    group: "writing",
    strategy: "lazy",
    requires: ["write"],
    whenUnsupported: "conditionalPut",
    title:
      "without conditionalPut, a conditional put fails ENOTSUP and stores nothing (never ignores the precondition)",
    async run(t) {
      await t.seed({ "c.txt": text("v1") });
      const mount = await t.writable();
      await rejects(
        () => mount.put("c.txt", text("v2"), { ifNoneMatch: "*" }),
        ["ENOTSUP"],
        "ifNoneMatch unsupported",
      );
      await rejects(
        () => mount.put("c.txt", text("v2"), { ifMatch: '"x"' }),
        ["ENOTSUP"],
        "ifMatch unsupported",
      );
      checkBytes(await t.harness.readBackend("c.txt"), text("v1"), "backend after refused conditional puts");
    },
  },
  {
    id: "write.large",
    group: "writing",
    strategy: "lazy",
    requires: ["write", "largeFiles"],
    title: "a put of 1 MiB and more is stored whole: backend bytes, listed size and fetch all match",
    async run(t) {
      const mount = await t.writable();
      const size = 6 * 1024 * 1024 + 5; // past the 5 MiB where S3 multipart parts start
      const bytes = binaryBytes(size, 41);
      await mount.put("big/upload.bin", bytes);
      const stored = await t.harness.readBackend("big/upload.bin");
      check(stored !== undefined, "the backend holds nothing at big/upload.bin after put");
      checkEqual(
        { length: stored.length, sha256: sha256(stored) },
        { length: size, sha256: sha256(bytes) },
        "backend after a large put",
      );
      const entry = (await mount.list()).find((e) => e.path === "big/upload.bin");
      check(entry?.size === size, `listed size ${String(entry?.size)} after a ${size}-byte put`);
      const fetched = await mount.fetch("big/upload.bin");
      checkEqual(
        { length: fetched.length, sha256: sha256(fetched) },
        { length: size, sha256: sha256(bytes) },
        "fetch after a large put",
      );
    },
  },
  {
    id: "write.etag-changes",
    group: "writing",
    strategy: "lazy",
    requires: ["write"],
    title:
      "when etags are listed, overwriting a file changes its etag (even at the same size); a neighbour's stays",
    async run(t) {
      await t.seed({ "v.txt": text("version-1"), "n.txt": text("neighbour") });
      const mount = await t.writable();
      const etags = async (): Promise<Map<string, string | undefined>> =>
        new Map((await mount.list()).map((e) => [e.path, e.etag]));
      const first = await etags();
      if (first.get("v.txt") === undefined) {
        // No etags at all is allowed (the host then cannot write conditionally); a partial set is not.
        check(
          [...first.values()].every((e) => e === undefined),
          "list() reports an etag for some files but not for v.txt",
        );
        return;
      }
      await mount.put("v.txt", text("version-2")); // same length, different bytes
      const second = await etags();
      check(
        second.get("v.txt") !== first.get("v.txt"),
        `the etag of v.txt stayed ${JSON.stringify(first.get("v.txt"))} after it was overwritten: ` +
          "the host would take new content for the version it already has",
      );
      checkEqual(second.get("n.txt"), first.get("n.txt"), "the etag of an untouched neighbour");
      await mount.put("v.txt", text("version-1"));
      check((await etags()).get("v.txt") !== undefined, "v.txt has no etag after the second overwrite");
    },
  },
  {
    id: "write.caller-buffer",
    group: "writing",
    strategy: "lazy",
    requires: ["write"],
    title: "put copies the caller's bytes: mutating the buffer after put resolves changes nothing stored",
    async run(t) {
      const mount = await t.writable();
      const original = binaryBytes(4096, 77);
      const buffer = new Uint8Array(original);
      await mount.put("buf.bin", buffer);
      buffer.fill(0x41); // the caller reuses its buffer, as a stream reader does
      // A provider that uploads after put resolved would read the mutated buffer now.
      await new Promise((resolve) => setTimeout(resolve, 50));
      checkBytes(
        await t.harness.readBackend("buf.bin"),
        original,
        "backend after the caller reused its buffer",
      );
      checkBytes(await mount.fetch("buf.bin"), original, "fetch after the caller reused its buffer");
    },
  },
  {
    id: "write.conditional.race",
    group: "writing",
    strategy: "lazy",
    requires: ["write", "conditionalPut"],
    title: 'eight racing put(ifNoneMatch: "*") on one path: exactly one wins, the others fail EEXIST',
    async run(t) {
      const mount = await t.writable();
      const racers = Array.from({ length: 8 }, (_, i) => text(`racer ${i}`));
      const settled = await Promise.allSettled(
        racers.map((bytes) => mount.put("lock.txt", bytes, { ifNoneMatch: "*" })),
      );
      const winners = settled.flatMap((s, i) => (s.status === "fulfilled" ? [i] : []));
      if (winners.length !== 1) {
        fail(
          `${winners.length} of 8 conditional creates succeeded (racers ${JSON.stringify(winners)}); exactly one may: ` +
            "a check-then-put is not a conditional create",
        );
      }
      for (const s of settled) {
        if (s.status === "rejected") {
          const code = (s.reason as { code?: unknown }).code;
          check(code === "EEXIST", `a losing racer failed ${String(code)}, not EEXIST (${String(s.reason)})`);
        }
      }
      const winner = racers[winners[0]!]!;
      checkBytes(await t.harness.readBackend("lock.txt"), winner, "backend holds the winner's bytes");
      checkBytes(await mount.fetch("lock.txt"), winner, "fetch returns the winner's bytes");
    },
  },
  {
    id: "write.conditional.missing",
    group: "writing",
    strategy: "lazy",
    requires: ["write", "conditionalPut"],
    title: "ifMatch on a path that does not exist fails (ESTALE or ENOENT) and creates nothing",
    async run(t) {
      await t.seed({ "other.txt": text("other") });
      const mount = await t.writable();
      const etag = (await mount.list()).find((e) => e.path === "other.txt")?.etag;
      check(typeof etag === "string", "list() must report an etag for conditional puts");
      // Another file's real etag: a provider that only compares when something is stored creates the file.
      await rejects(
        () => mount.put("absent.txt", text("created"), { ifMatch: etag }),
        ["ESTALE", "ENOENT"],
        "ifMatch on a missing path",
      );
      checkEqual(
        await t.harness.readBackend("absent.txt"),
        undefined,
        "backend after a refused ifMatch on a missing path",
      );
    },
  },
];
