import type { LazyMount, MountEntry } from "@ws/core";
import { check, checkBytes, checkEqual, fail, sorted } from "../assert.js";
import { text } from "../bytes.js";
import type { CaseContext, ConformanceCase } from "../case.js";

/** Seeds `files` (text values) and returns them as bytes. */
export async function seedText(
  t: CaseContext,
  files: Readonly<Record<string, string>>,
): Promise<Record<string, Uint8Array>> {
  const bytes: Record<string, Uint8Array> = {};
  for (const [path, value] of Object.entries(files)) bytes[path] = text(value);
  await t.seed(bytes);
  return bytes;
}

export async function listPaths(mount: LazyMount): Promise<string[]> {
  const entries = await mount.list();
  check(Array.isArray(entries), `list() must return an array, got ${typeof entries}`);
  return entries.map((e) => e.path);
}

export function checkHygiene(entries: readonly MountEntry[]): void {
  for (const entry of entries) {
    const p = entry.path;
    check(
      typeof p === "string" && p !== "",
      `an entry has an empty or non-string path: ${JSON.stringify(entry)}`,
    );
    check(!p.startsWith("/"), `list path ${JSON.stringify(p)} starts with /`);
    check(!p.endsWith("/"), `list path ${JSON.stringify(p)} ends with /`);
    check(!p.includes("\0"), `list path ${JSON.stringify(p)} contains NUL`);
    for (const segment of p.split("/")) {
      check(
        segment !== "" && segment !== "." && segment !== "..",
        `list path ${JSON.stringify(p)} has a ${JSON.stringify(segment)} segment`,
      );
    }
    check(
      Number.isSafeInteger(entry.size) && entry.size >= 0,
      `list size of ${p} must be a non-negative integer, got ${String(entry.size)}`,
    );
  }
}

function duplicates(paths: readonly string[]): string[] {
  const seen = new Set<string>();
  const out = new Set<string>();
  for (const p of paths) (seen.has(p) ? out : seen).add(p);
  return [...out];
}

/** Lists and checks that the set of paths is exactly `expected` (no duplicates, nothing missing or extra). */
export async function checkListing(
  mount: LazyMount,
  expected: Iterable<string>,
  what: string,
): Promise<MountEntry[]> {
  const entries = await mount.list();
  check(Array.isArray(entries), `list() must return an array, got ${typeof entries}`);
  const paths = entries.map((e) => e.path);
  const dups = duplicates(paths);
  if (dups.length > 0) fail(`${what}: list() returned duplicates: ${JSON.stringify(dups.slice(0, 10))}`);
  const want = sorted(expected);
  const got = sorted(paths);
  if (JSON.stringify(want) !== JSON.stringify(got)) {
    const wantSet = new Set(want);
    const gotSet = new Set(got);
    const missing = want.filter((p) => !gotSet.has(p));
    const extra = got.filter((p) => !wantSet.has(p));
    fail(
      `${what}: list() differs from the seeded set (${got.length} listed, ${want.length} seeded)\n` +
        `  missing: ${JSON.stringify(missing.slice(0, 10))}${missing.length > 10 ? ` and ${missing.length - 10} more` : ""}\n` +
        `  extra:   ${JSON.stringify(extra.slice(0, 10))}${extra.length > 10 ? ` and ${extra.length - 10} more` : ""}`,
    );
  }
  return entries;
}

const BASIC = {
  "README.md": "# hello\n",
  "src/index.ts": "export {};\n",
  "src/lib/util.ts": "export const x = 1;\n",
  "docs/guide/intro.md": "intro",
  "empty.txt": "",
};

export const listingCases: readonly ConformanceCase[] = [
  {
    id: "list.exact",
    group: "listing",
    strategy: "lazy",
    title: "list() returns exactly the seeded set",
    async run(t) {
      const files = await seedText(t, BASIC);
      await checkListing(await t.lazy(), Object.keys(files), "seeded tree");
    },
  },
  {
    id: "list.no-duplicates",
    group: "listing",
    strategy: "lazy",
    title: "no path is listed twice",
    async run(t) {
      await seedText(t, { ...BASIC, "a/b": "1", "a/c": "2", "a.b": "3" });
      const paths = await listPaths(await t.lazy());
      checkEqual(duplicates(paths), [], "duplicated paths");
    },
  },
  {
    id: "list.path-hygiene",
    group: "listing",
    strategy: "lazy",
    title: "paths are relative, without a leading /, ./../empty segments; sizes are integers",
    async run(t) {
      await seedText(t, BASIC);
      const mount = await t.lazy();
      checkHygiene(await mount.list());
    },
  },
  {
    id: "list.repeatable",
    group: "listing",
    strategy: "lazy",
    title: "listing twice gives the same set and sizes",
    async run(t) {
      await seedText(t, BASIC);
      const mount = await t.lazy();
      const view = (entries: MountEntry[]) => sorted(entries.map((e) => `${e.path}\t${e.size}`));
      const first = view(await mount.list());
      const second = view(await mount.list());
      checkEqual(second, first, "the second listing differs from the first");
    },
  },
  {
    id: "list.sizes-match-fetch",
    group: "listing",
    strategy: "lazy",
    title: "every listed size equals the fetched length",
    async run(t) {
      const files = await seedText(t, { ...BASIC, "big.bin": "x".repeat(10_000) });
      const mount = await t.lazy();
      for (const entry of await mount.list()) {
        const bytes = await mount.fetch(entry.path);
        check(
          bytes.length === entry.size,
          `${entry.path}: list size ${entry.size} but fetch returned ${bytes.length} bytes`,
        );
        check(
          entry.size === files[entry.path]?.length,
          `${entry.path}: size ${entry.size} differs from the seeded length`,
        );
      }
    },
  },
  {
    id: "list.empty",
    group: "listing",
    strategy: "lazy",
    title: "an empty mount lists [] (not an error)",
    async run(t) {
      const entries = await (await t.lazy()).list();
      checkEqual(entries, [], "empty mount listing");
    },
  },
  {
    id: "list.pagination.boundary",
    group: "listing",
    strategy: "lazy",
    requires: ["paginationBoundary"],
    title: "a listing across the backend's page boundary, with # and + keys at the boundary, is complete",
    async run(t) {
      // Five boundary keys must fit around the boundary; smaller pages are rounded up.
      const page = Math.max(t.pageSize, 5);
      // In key order ("#" < "+" < digits) the fillers come first, then `#` and `+` keys end the first
      // page and start the second, where a continuation token or start-after key built from an
      // unescaped or re-encoded key goes wrong.
      const boundary = ["p/99998#x", "p/99998+y", "p/99999", "p/99999#z", "p/99999+w"];
      const fillers = page + 3 - boundary.length;
      const files: Record<string, Uint8Array> = {};
      for (let i = 0; i < fillers; i++) files[`p/${String(i).padStart(5, "0")}`] = text(String(i));
      for (const key of boundary) files[key] = text(key);
      const keys = sorted(Object.keys(files));
      check(
        keys[page - 2] === "p/99998#x" && keys[page - 1] === "p/99998+y",
        "the boundary keys must end page 1",
      );
      await t.seed(files);
      const mount = await t.lazy();
      await checkListing(mount, keys, `${keys.length} keys with page size ${page}`);
      for (const key of boundary) checkBytes(await mount.fetch(key), text(key), `fetch ${key}`);
    },
  },
  {
    id: "list.prefix-confusion",
    group: "listing",
    strategy: "lazy",
    title: "foo/ vs foo.bar and dir vs dir.txt are told apart",
    async run(t) {
      const files = await seedText(t, {
        "foo/a": "foo/a",
        "foo.bar": "foo.bar",
        "foo-x": "foo-x",
        foo0: "foo0",
        "dir/x": "dir/x",
        "dir.txt": "dir.txt",
        "dir2/y": "dir2/y",
      });
      const mount = await t.lazy();
      await checkListing(mount, Object.keys(files), "prefix neighbours");
      for (const [path, bytes] of Object.entries(files))
        checkBytes(await mount.fetch(path), bytes, `fetch ${path}`);
    },
  },
  {
    id: "list.deep-nesting",
    group: "listing",
    strategy: "lazy",
    title: "a file 24 directories deep is listed and fetched",
    async run(t) {
      const deep = `${Array.from({ length: 24 }, (_, i) => `d${i}`).join("/")}/leaf.txt`;
      const files = await seedText(t, { [deep]: "deep", "d0/shallow.txt": "shallow" });
      const mount = await t.lazy();
      await checkListing(mount, Object.keys(files), "deep tree");
      checkBytes(await mount.fetch(deep), text("deep"), "fetch the deep leaf");
    },
  },
  {
    id: "list.sub-prefix",
    group: "listing",
    strategy: "lazy",
    requires: ["subPrefix"],
    title: "a mount rooted at a sub-prefix sees only that subtree, relative to it",
    async run(t) {
      await seedText(t, {
        "a/x": "a/x",
        "a/b/y": "a/b/y",
        "ab/z": "ab/z",
        "a.txt": "a.txt",
        other: "other",
      });
      const mount = await t.lazy({ prefix: "a" });
      await checkListing(mount, ["x", "b/y"], "mount at prefix a");
      checkBytes(await mount.fetch("b/y"), text("a/b/y"), "fetch b/y under prefix a");
    },
  },
  {
    id: "list.mtime-unit",
    group: "listing",
    strategy: "lazy",
    title: "mtime, when listed, is milliseconds since the epoch (not seconds, not microseconds)",
    async run(t) {
      const before = Date.now();
      await seedText(t, { "a.txt": "a", "d/b.txt": "b" });
      const entries = await (await t.lazy()).list();
      // Wide bounds: a server clock may be off, and S3 rounds to the second. Seconds since the
      // epoch (1.7e9) fall below the lower bound; micro- or nanoseconds land far in the future.
      const low = Date.UTC(2000, 0, 1);
      const high = Date.now() + 2 * 24 * 3600 * 1000;
      for (const e of entries) {
        if (e.mtime === undefined) continue;
        check(
          typeof e.mtime === "number" && e.mtime >= low && e.mtime <= high,
          `${e.path}: mtime ${String(e.mtime)} is not milliseconds since the epoch ` +
            `(${e.mtime < low ? "seconds?" : "micro- or nanoseconds?"}); the file was written at ${before}, ` +
            `so about ${before} is expected`,
        );
      }
    },
  },
  {
    id: "list.pagination.page-sizes",
    group: "listing",
    strategy: "lazy",
    requires: ["listPageSize"],
    title:
      "the listing is complete at page sizes 1, 2, 3, 7 and the backend's own (a cursor bug hides at one size)",
    async run(t) {
      // 23 keys: 23 pages of one, 12 of two, 8 of three, 4 of seven (the last one short); # and +
      // keys sit at several boundaries.
      const files: Record<string, Uint8Array> = {};
      const keys = ["k/#a", "k/+b", "k/a b", "k/a+b", "k/a%20b", "k/~x", "k/z"];
      for (let i = 0; i < 16; i++) keys.push(`k/${String(i).padStart(2, "0")}${i % 3 === 0 ? "#" : ""}`);
      for (const key of keys) files[key] = text(key);
      await t.seed(files);
      for (const pageSize of [...new Set([1, 2, 3, 7, t.pageSize])]) {
        const mount = await t.lazy({ pageSize });
        await checkListing(mount, keys, `${keys.length} keys listed with pageSize ${pageSize}`);
      }
    },
  },
];
