import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitRoundTrip, npmRoundTrip, tarRoundTrip } from "@ws/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { HostDir } from "./host-dir.js";

// Issue 17's acceptance, as an agent works: a read-write HostDir changed through exec by one
// workspace, read back by a new workspace over a fresh HostDir of the same directory.
const dirs: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), "ws-agent-hostdir-"));
  dirs.push(dir);
  return () => HostDir(dir, { mode: "read-write" });
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("HostDir: an agent's round trips", () => {
  it("git: init, two commits, a branch and a tag; a new workspace logs, fscks clean, status clean, runs the script", async () => {
    const r = await gitRoundTrip(fresh());
    expect(r.write.exec.stderr).toBe("");
    expect(r.write.exec.exitCode).toBe(0);
    expect(r.write.exec.changes.errors).toEqual([]);
    expect(r.write.exec.changes.notMirrored).toEqual([]);
    expect(r.write.closeError).toBeUndefined();
    expect(r.log.stdout.trim().split("\n")).toHaveLength(3);
    expect(r.log.stdout).toContain("tag: v1");
    expect(r.fsck).toMatchObject({ exitCode: 0, stdout: "" });
    expect(r.status).toMatchObject({ exitCode: 0, stdout: "" });
    expect(r.script).toMatchObject({ exitCode: 0, stdout: "ran\n" });
    expect(r.modes.stdout).toBe("755 run.sh\n600 key\n755 empty\n");
  });

  it("npm install of a local package with a bin, then npx of it from a new workspace", async () => {
    const r = await npmRoundTrip(fresh());
    expect(r.write.exec.exitCode, r.write.exec.stderr).toBe(0);
    expect(r.write.exec.changes.errors).toEqual([]);
    expect(r.write.closeError).toBeUndefined();
    expect(r.npx).toMatchObject({ exitCode: 0, stdout: "hello from bin\n" });
  });

  it("tar: a tree with modes, empty folders and symlinks reads back equal (tar --compare, listing with modes)", async () => {
    const r = await tarRoundTrip(fresh());
    expect(r.write.exec.exitCode, r.write.exec.stderr).toBe(0);
    expect(r.write.exec.changes.errors).toEqual([]);
    expect(r.write.closeError).toBeUndefined();
    expect(r.listingAfter.stdout).toBe(r.listingBefore);
    expect(r.compare).toMatchObject({ exitCode: 0, stdout: "" });
  });
});
