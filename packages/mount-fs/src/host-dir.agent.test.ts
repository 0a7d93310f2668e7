import { execFileSync } from "node:child_process";
import { lstatSync, mkdtempSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitRoundTrip, npmRoundTrip, tarRoundTrip } from "@ws/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { HostDir } from "./host-dir.js";

// Issue 17's acceptance, as an agent works: a read-write HostDir changed through exec by one
// workspace, read back by a new workspace over a fresh HostDir of the same directory. A host
// directory is the user's own disk: modes, mtimes, empty folders and links (whatever their
// target) all come back, on the disk itself as well as through the second workspace.
const dirs: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), "ws-agent-hostdir-"));
  dirs.push(dir);
  return () => HostDir(dir, { mode: "read-write" });
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("HostDir: an agent's round trips", { timeout: 240_000 }, () => {
  it("git: init, two commits, a branch and a tag; a new workspace logs, fscks clean, status clean, runs the script", async () => {
    const r = await gitRoundTrip(fresh());
    expect(r.write.exec.stderr).toBe("");
    expect(r.write.exec.exitCode).toBe(0);
    expect(r.write.exec.changes.errors).toEqual([]);
    expect(r.write.exec.changes.notMirrored).toEqual([]);
    expect(r.write.closeError).toBeUndefined();
    expect(r.log.stdout.trim().split("\n")).toHaveLength(3);
    expect(r.log.stdout).toContain("tag: v1");
    expect(r.log.stdout).toContain("(feature)");
    expect(r.fsck).toMatchObject({ exitCode: 0, stdout: "" });
    expect(r.status).toMatchObject({ exitCode: 0, stdout: "" });
    expect(r.script).toMatchObject({ exitCode: 0, stdout: "ran\n" });
    expect(r.modes.stdout).toBe("755 run.sh\n600 key\n755 empty\n");
    // On the disk itself: git's empty folders exist, and git's read-only objects kept their 0444.
    const dir = dirs.at(-1)!;
    expect(statSync(join(dir, "empty")).isDirectory()).toBe(true);
    expect(statSync(join(dir, ".git/refs/tags")).isDirectory()).toBe(true);
    const objects = execFileSync("find", [join(dir, ".git/objects"), "-type", "f"], { encoding: "utf8" })
      .trim()
      .split("\n");
    expect(objects.length).toBeGreaterThan(5);
    for (const object of objects) expect(statSync(object).mode & 0o777).toBe(0o444);
  });

  it("npm install of a local package with a bin, then npx of it from a new workspace (the .bin link is a link on disk)", async () => {
    const r = await npmRoundTrip(fresh());
    expect(r.write.exec.exitCode, r.write.exec.stderr).toBe(0);
    expect(r.write.exec.changes.errors).toEqual([]);
    expect(r.write.closeError).toBeUndefined();
    expect(r.npx).toMatchObject({ exitCode: 0, stdout: "hello from bin\n" });
    const dir = dirs.at(-1)!;
    expect(readlinkSync(join(dir, "app/node_modules/.bin/hello-bin"))).toBe("../hello-bin/cli.js");
  });

  it("tar: a tree with modes, mtimes, empty folders and links (a venv's out of the tree too) reads back equal", async () => {
    const r = await tarRoundTrip(fresh());
    expect(r.write.exec.exitCode, r.write.exec.stderr).toBe(0);
    expect(r.write.exec.changes.errors).toEqual([]);
    expect(r.write.closeError).toBeUndefined();
    expect(r.listingAfter.stdout).toBe(r.listingBefore);
    expect(r.compare).toMatchObject({ exitCode: 0, stdout: "" });
    const dir = dirs.at(-1)!;
    expect(readlinkSync(join(dir, "tree/venv-python"))).toBe("/usr/bin/python3");
    expect(readlinkSync(join(dir, "tree/deep/er/up"))).toBe("../deep");
    expect(lstatSync(join(dir, "tree/README")).mtime.toISOString()).toMatch(/^2021-02-03T/);
  });
});
