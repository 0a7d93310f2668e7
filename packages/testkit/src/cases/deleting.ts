import { checkBytes, checkEqual, rejects } from "../assert.js";
import { text } from "../bytes.js";
import type { ConformanceCase } from "../case.js";
import { checkListing, seedText } from "./listing.js";
import { backendSnapshot, REFUSED_WRITE_CODES } from "./writing.js";

export const deletingCases: readonly ConformanceCase[] = [
  {
    id: "delete.gone",
    group: "deleting",
    strategy: "lazy",
    requires: ["delete"],
    title: "a deleted file is gone from fetch, list and the backend",
    async run(t) {
      await seedText(t, { "a.txt": "a", "b.txt": "b" });
      const mount = await t.deletable();
      await mount.delete("a.txt");
      checkEqual(await t.harness.readBackend("a.txt"), undefined, "backend after delete");
      await rejects(() => mount.fetch("a.txt"), ["ENOENT"], "fetch after delete");
      await checkListing(mount, ["b.txt"], "list after delete");
    },
  },
  {
    id: "delete.missing",
    group: "deleting",
    strategy: "lazy",
    requires: ["delete"],
    title: "deleting a path that never existed succeeds",
    async run(t) {
      await seedText(t, { "keep.txt": "k" });
      const mount = await t.deletable();
      await mount.delete("never/existed.txt");
      checkBytes(await t.harness.readBackend("keep.txt"), text("k"), "an unrelated file");
    },
  },
  {
    id: "delete.twice",
    group: "deleting",
    strategy: "lazy",
    requires: ["delete"],
    title: "deleting the same file twice succeeds both times",
    async run(t) {
      await seedText(t, { "a.txt": "a" });
      const mount = await t.deletable();
      await mount.delete("a.txt");
      await mount.delete("a.txt");
      checkEqual(await t.harness.listBackend(), [], "backend after two deletes");
    },
  },
  {
    id: "delete.siblings",
    group: "deleting",
    strategy: "lazy",
    requires: ["delete"],
    title: "deleting foo or foo.ba leaves foo.bar, foo/x and foobar alone (no prefix deletes)",
    async run(t) {
      const files = await seedText(t, { "foo.bar": "1", "foo/x": "2", foobar: "3", "foo.ba": "4" });
      const mount = await t.deletable();
      await mount.delete("foo");
      await mount.delete("foo.ba");
      for (const key of ["foo.bar", "foo/x", "foobar"]) {
        checkBytes(await t.harness.readBackend(key), files[key]!, `sibling ${key}`);
      }
      checkEqual(await t.harness.readBackend("foo.ba"), undefined, "foo.ba after delete");
    },
  },
  {
    id: "delete.unsupported",
    group: "deleting",
    whenUnsupported: "delete",
    title: "without the delete capability, a read-write mount refuses delete cleanly",
    async run(t) {
      await seedText(t, { "keep.txt": "k" });
      const before = await backendSnapshot(t);
      const mount = await t.mount({ mode: "read-write" });
      if (typeof mount.delete === "function") {
        const del = mount.delete.bind(mount);
        await rejects(() => del("keep.txt"), REFUSED_WRITE_CODES, "delete without the delete capability");
      }
      checkEqual(await backendSnapshot(t), before, "backend after a refused delete");
    },
  },
];
