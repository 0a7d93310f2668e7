import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitRoundTrip, npmRoundTrip, tarRoundTrip } from "@ws/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { HostDir } from "./host-dir.js";

// Issue 17's acceptance, as an agent works: a read-write HostDir changed through exec by one
// workspace, read back by a new workspace over a fresh HostDir of the same directory. HostDir keeps
// modes (so git round-trips clean) but has no mkdir/rmdir and stores no links or mtimes yet: the
// empty folder is lost, and links are refused, said plainly in the exec's result (not silently).
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
    // The empty folder does not survive (HostDir keeps no empty folders yet): stat fails on it.
    expect(r.modes.stdout).toBe("755 run.sh\n600 key\n");
  });

  it("npm install with a bin: the .bin link is reported as not stored (HostDir keeps no links yet)", async () => {
    const r = await npmRoundTrip(fresh());
    expect(r.write.exec.exitCode, r.write.exec.stderr).toBe(0);
    // HostDir stores no links yet: npm's .bin link is refused by name, never dropped silently.
    expect(r.write.exec.changes.errors.map((e) => [e.path, (e.error as { code?: string }).code])).toEqual([
      ["/repo/app/node_modules/.bin/hello-bin", "ENOTSUP"],
    ]);
    expect(r.write.closeError).toBeUndefined();
    expect(r.npx.exitCode).not.toBe(0);
  });

  it("tar: files come back with their modes and bytes; links are reported as not stored (HostDir keeps no links yet)", async () => {
    const r = await tarRoundTrip(fresh());
    expect(r.write.exec.exitCode, r.write.exec.stderr).toBe(0);
    // Links are refused by name (HostDir stores none yet); files keep their modes.
    expect(r.write.exec.changes.errors.map((e) => e.path).sort()).toEqual([
      "/repo/tree/deep/er/up",
      "/repo/tree/tool-link",
      "/repo/tree/venv-python",
    ]);
    expect(r.write.closeError).toBeUndefined();
    const files = (listing: string) => listing.split("\n").filter((l) => l.includes(" file "));
    expect(files(r.listingAfter.stdout)).toEqual(files(r.listingBefore));
  });
});
