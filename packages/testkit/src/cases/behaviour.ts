import { check, checkBytes, checkEqual, rejects } from "../assert.js";
import { binaryBytes, text } from "../bytes.js";
import type { ConformanceCase } from "../case.js";
import { checkListing } from "./listing.js";
import { checkExactView } from "./reading.js";

export const idempotencyCases: readonly ConformanceCase[] = [
  {
    id: "idempotency.fetch",
    group: "idempotency",
    strategy: "lazy",
    title: "fetching twice gives the same bytes",
    async run(t) {
      const bytes = binaryBytes(5000, 11);
      await t.seed({ "f.bin": bytes });
      const mount = await t.lazy();
      checkBytes(await mount.fetch("f.bin"), bytes, "first fetch");
      checkBytes(await mount.fetch("f.bin"), bytes, "second fetch");
    },
  },
  {
    id: "idempotency.put",
    group: "idempotency",
    strategy: "lazy",
    requires: ["write"],
    title: "putting the same bytes twice leaves one file with those bytes",
    async run(t) {
      const mount = await t.writable();
      await mount.put("p.txt", text("same"));
      await mount.put("p.txt", text("same"));
      checkEqual(await t.harness.listBackend(), ["p.txt"], "backend keys");
      checkBytes(await t.harness.readBackend("p.txt"), text("same"), "backend p.txt");
      await checkListing(mount, ["p.txt"], "list after two puts");
    },
  },
];

export const concurrencyCases: readonly ConformanceCase[] = [
  {
    id: "concurrency.fetch-32",
    group: "concurrency",
    strategy: "lazy",
    title: "32 parallel fetches of different files each get their own bytes",
    async run(t) {
      const files: Record<string, Uint8Array> = {};
      for (let i = 0; i < 32; i++) files[`c/${i}.bin`] = binaryBytes(100 + i * 37, i + 1);
      await t.seed(files);
      const mount = await t.lazy();
      const paths = Object.keys(files);
      const results = await Promise.all(paths.map((p) => mount.fetch(p)));
      for (const [i, bytes] of results.entries())
        checkBytes(bytes, files[paths[i]!]!, `parallel fetch ${paths[i]}`);
    },
  },
  {
    id: "concurrency.fetch-same-8",
    group: "concurrency",
    strategy: "lazy",
    title: "8 parallel fetches of one file each get an exact, unshared copy",
    async run(t) {
      const bytes = binaryBytes(3000, 5);
      await t.seed({ "same.bin": bytes });
      const mount = await t.lazy();
      const results = await Promise.all(Array.from({ length: 8 }, () => mount.fetch("same.bin")));
      const buffers = new Set<ArrayBufferLike>();
      results.forEach((r, i) => {
        checkExactView(r, `parallel fetch #${i}`);
        checkBytes(r, bytes, `parallel fetch #${i}`);
        buffers.add(r.buffer);
      });
      check(
        buffers.size === results.length,
        `8 parallel fetches share ${results.length - buffers.size + 1} buffers`,
      );
    },
  },
  {
    id: "concurrency.put-parallel",
    group: "concurrency",
    strategy: "lazy",
    requires: ["write"],
    title: "16 parallel puts of different files all land",
    async run(t) {
      const mount = await t.writable();
      const files: Record<string, Uint8Array> = {};
      for (let i = 0; i < 16; i++) files[`w/${i}.bin`] = binaryBytes(64 + i, 100 + i);
      await Promise.all(Object.entries(files).map(([p, b]) => mount.put(p, b)));
      for (const [p, b] of Object.entries(files))
        checkBytes(await t.harness.readBackend(p), b, `backend ${p}`);
    },
  },
  {
    id: "concurrency.put-delete-race",
    group: "concurrency",
    strategy: "lazy",
    requires: ["write", "delete"],
    title: "a put racing a delete ends with the file complete or absent, and fetch agrees",
    async run(t) {
      const mount = await t.writable();
      const del = mount.delete;
      check(typeof del === "function", "capability delete is declared, but delete() is missing");
      const bytes = binaryBytes(20_000, 9);
      for (let i = 0; i < 8; i++) {
        const path = `race/${i}.bin`;
        if (i % 2 === 1) await t.seed({ [path]: text("old") });
        const ops =
          i % 3 === 0
            ? [del.call(mount, path), mount.put(path, bytes)]
            : [mount.put(path, bytes), del.call(mount, path)];
        const settled = await Promise.allSettled(ops);
        for (const s of settled) if (s.status === "rejected") throw s.reason;
        const stored = await t.harness.readBackend(path);
        if (stored === undefined) {
          await rejects(() => mount.fetch(path), ["ENOENT"], `fetch ${path} (absent on the backend)`);
        } else {
          checkBytes(stored, bytes, `backend ${path} (must be the complete put)`);
          checkBytes(await mount.fetch(path), bytes, `fetch ${path}`);
        }
      }
    },
  },
];

export const consistencyCases: readonly ConformanceCase[] = [
  {
    id: "consistency.after-put",
    group: "consistency",
    strategy: "lazy",
    requires: ["write"],
    title: "after put, list shows the file with its new size and fetch returns it",
    async run(t) {
      await t.seed({ "old.txt": text("old") });
      const mount = await t.writable();
      await mount.list(); // a provider with a listing cache must not serve it stale after its own put
      await mount.put("new.txt", text("fresh!"));
      await mount.put("old.txt", text("rewritten, longer"));
      const entries = await checkListing(mount, ["old.txt", "new.txt"], "list after put");
      const sizes = Object.fromEntries(entries.map((e) => [e.path, e.size]));
      checkEqual(sizes, { "new.txt": 6, "old.txt": 17 }, "sizes after put");
      checkBytes(await mount.fetch("old.txt"), text("rewritten, longer"), "fetch after overwrite");
    },
  },
  {
    id: "consistency.after-delete",
    group: "consistency",
    strategy: "lazy",
    requires: ["delete"],
    title: "after delete, list no longer shows the file and fetch is ENOENT",
    async run(t) {
      await t.seed({ "a.txt": text("a"), "b.txt": text("b") });
      const mount = await t.deletable();
      await mount.list();
      await mount.fetch("a.txt");
      await mount.delete("a.txt");
      await checkListing(mount, ["b.txt"], "list after delete");
      await rejects(() => mount.fetch("a.txt"), ["ENOENT"], "fetch after delete");
    },
  },
  {
    id: "consistency.put-delete",
    group: "consistency",
    strategy: "lazy",
    requires: ["write", "delete"],
    title: "a file the mount wrote and then deleted itself is gone from list, fetch and the backend",
    async run(t) {
      await t.seed({ "keep.txt": text("keep") });
      const mount = await t.writable();
      const del = mount.delete;
      check(typeof del === "function", "capability delete is declared, but delete() is missing");
      await mount.put("tmp/scratch.txt", text("scratch"));
      // Read it through every path a cache could sit on before deleting it.
      await checkListing(mount, ["keep.txt", "tmp/scratch.txt"], "list after put");
      checkBytes(await mount.fetch("tmp/scratch.txt"), text("scratch"), "fetch after put");
      await del.call(mount, "tmp/scratch.txt");
      checkEqual(await t.harness.readBackend("tmp/scratch.txt"), undefined, "backend after delete");
      await checkListing(mount, ["keep.txt"], "list after the mount deleted its own file");
      await rejects(
        () => mount.fetch("tmp/scratch.txt"),
        ["ENOENT"],
        "fetch after the mount deleted its own file",
      );
    },
  },
];
