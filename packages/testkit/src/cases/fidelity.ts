import { type FetchResult, type MountEntry, S_IFLNK, S_IFMT } from "@ws/core";
import { check, checkBytes, checkEqual, fail } from "../assert.js";
import { text } from "../bytes.js";
import type { CaseContext, ConformanceCase } from "../case.js";

/**
 * Round-trip fidelity (issue 17): what a read-write mount stores beside the bytes. Each case writes
 * through one mount and reads through a fresh one (nothing cached), as a second workspace would.
 */

/** `fetchWithInfo` of a fresh mount (undefined when the mount has none: the listing must then say). */
async function fetchInfo(t: CaseContext, path: string): Promise<FetchResult | undefined> {
  const mount = await t.lazy();
  return typeof mount.fetchWithInfo === "function" ? mount.fetchWithInfo(path) : undefined;
}

/** The listing's entry for `path` on a fresh mount. */
async function listed(t: CaseContext, path: string): Promise<MountEntry[]> {
  const mount = await t.lazy();
  return (await mount.list()).filter((e) => e.path === path || e.path.startsWith(`${path}/`));
}

export const fidelityCases: readonly ConformanceCase[] = [
  {
    id: "fidelity.mode-round-trip",
    group: "writing",
    strategy: "lazy",
    requires: ["write", "modeRoundTrip"],
    title: "a 0o600 and a 0o755 file come back with those modes (never widened)",
    async run(t) {
      const mount = await t.writable();
      await mount.put("bin/tool", text("#!/bin/sh\n"), { mode: 0o755 });
      await mount.put("keys/id", text("secret\n"), { mode: 0o600 });
      for (const [path, mode] of [
        ["bin/tool", 0o755],
        ["keys/id", 0o600],
      ] as const) {
        const info = await fetchInfo(t, path);
        const entry = (await listed(t, path))[0];
        const got = info?.mode ?? entry?.mode;
        check(got !== undefined, `${path}: neither fetchWithInfo nor list() returned a mode`);
        checkEqual((got ?? 0) & 0o7777, mode, `${path}: mode after a round trip`);
      }
    },
  },
  {
    id: "fidelity.mtime-round-trip",
    group: "writing",
    strategy: "lazy",
    requires: ["write", "mtimeRoundTrip"],
    title: "the mtime given to put comes back (to the second), not the upload time",
    async run(t) {
      const mount = await t.writable();
      const mtime = Date.UTC(2021, 1, 3, 4, 5, 6);
      await mount.put("old.txt", text("from 2021\n"), { mtime });
      const info = await fetchInfo(t, "old.txt");
      const entry = (await listed(t, "old.txt"))[0];
      const got = info?.mtime ?? entry?.mtime;
      check(got !== undefined, "neither fetchWithInfo nor list() returned an mtime");
      check(
        Math.abs((got ?? 0) - mtime) < 1000,
        `mtime after a round trip: expected ${new Date(mtime).toISOString()}, got ${new Date(got ?? 0).toISOString()}`,
      );
    },
  },
  {
    id: "fidelity.empty-directory",
    group: "writing",
    strategy: "lazy",
    requires: ["write", "emptyDirectories"],
    title: "mkdir of an empty folder lists as a folder (never a file) on a fresh mount; rmdir removes it",
    async run(t) {
      const mount = await t.writable();
      if (typeof mount.mkdir !== "function" || typeof mount.rmdir !== "function") {
        fail("emptyDirectories is declared, but the read-write mount has no mkdir()/rmdir()");
      }
      await mount.mkdir("a/empty");
      await mount.put("a/file.txt", text("x"));
      const entries = await listed(t, "a");
      const empty = entries.filter((e) => e.path === "a/empty");
      checkEqual(empty.length, 1, "entries for a/empty");
      checkEqual(empty[0]?.type, "directory", "type of a/empty");
      checkEqual(empty[0]?.size, 0, "size of a/empty");
      check(
        !entries.some((e) => e.path.startsWith("a/empty/") || e.path === "a/empty/"),
        "the folder marker is listed as a file",
      );
      await mount.rmdir("a/empty");
      const after = await listed(t, "a");
      checkEqual(
        after.map((e) => e.path),
        ["a/file.txt"],
        "entries under a after rmdir",
      );
    },
  },
  {
    id: "fidelity.symlink-round-trip",
    group: "writing",
    strategy: "lazy",
    requires: ["write", "symlinkRoundTrip"],
    title: "links are stored verbatim, whatever their target, and come back as links",
    async run(t) {
      const mount = await t.writable();
      if (mount.symlinks !== true)
        fail("symlinkRoundTrip is declared, but the mount does not say symlinks: true");
      const links = { "venv/bin/python": "/usr/bin/python3", "node_modules/.bin/tool": "../tool/cli.js" };
      for (const [path, target] of Object.entries(links)) {
        await mount.put(path, text(target), { symlink: target });
      }
      for (const [path, target] of Object.entries(links)) {
        const info = await fetchInfo(t, path);
        if (!info)
          fail("symlinkRoundTrip is declared, but the mount has no fetchWithInfo() to say a path is a link");
        check(
          info.mode !== undefined,
          `${path}: fetchWithInfo returned no mode, so the link came back as a file`,
        );
        checkEqual((info.mode ?? 0) & S_IFMT, S_IFLNK, `${path}: file type bits`);
        checkBytes(info.bytes, text(target), `${path}: the target`);
      }
    },
  },
];
