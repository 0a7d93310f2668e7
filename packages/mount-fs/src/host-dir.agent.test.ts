import { execFileSync } from "node:child_process";
import { lstatSync, mkdtempSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeAgentRoundTrips } from "@ws/testkit/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { HostDir } from "./host-dir.js";

// Issue 17's acceptance, as an agent works: a read-write HostDir changed through exec by one
// workspace, read back by a new workspace over a fresh HostDir of the same directory. A host
// directory is the user's own disk: modes, mtimes, empty folders and links (whatever their
// target) all come back, through the second workspace and on the disk itself.
const dirs = new Map<string, string>();
const dirOf = (scenario: string): string => {
  let dir = dirs.get(scenario);
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), `ws-agent-hostdir-${scenario}-`));
    dirs.set(scenario, dir);
  }
  return dir;
};
afterAll(() => {
  for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true });
});

describeAgentRoundTrips("HostDir", (scenario) => () => HostDir(dirOf(scenario), { mode: "read-write" }), {
  folderModes: true,
});

// After the round trips above (same file, run in order): what they left on the host.
describe("HostDir: the round trips, on the disk itself", () => {
  it("git: the empty folders exist, and git's read-only objects kept their 0444", () => {
    const dir = dirOf("git");
    expect(statSync(join(dir, "empty")).isDirectory()).toBe(true);
    expect(statSync(join(dir, ".git/refs/tags")).isDirectory()).toBe(true);
    const objects = execFileSync("find", [join(dir, ".git/objects"), "-type", "f"], { encoding: "utf8" })
      .trim()
      .split("\n");
    expect(objects.length).toBeGreaterThan(5);
    for (const object of objects) expect(statSync(object).mode & 0o777).toBe(0o444);
  });

  it("npm: the .bin link is a link", () => {
    expect(readlinkSync(join(dirOf("npm"), "app/node_modules/.bin/hello-bin"))).toBe("../hello-bin/cli.js");
  });

  it("tar: links keep their targets (a venv's out of the tree too), files their mtimes", () => {
    const dir = dirOf("tar");
    expect(readlinkSync(join(dir, "tree/venv-python"))).toBe("/usr/bin/python3");
    expect(readlinkSync(join(dir, "tree/deep/er/up"))).toBe("../deep");
    expect(lstatSync(join(dir, "tree/README")).mtime.toISOString()).toMatch(/^2021-02-03T/);
    // Folder modes too (the 0555 folder holds a file, so it is not an empty folder's marker).
    expect(statSync(join(dir, "tree/sealed")).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "tree/locked")).mode & 0o777).toBe(0o555);
  });
});
