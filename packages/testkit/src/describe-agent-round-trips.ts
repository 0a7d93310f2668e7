import { describe, expect, it } from "vitest";
import { type FreshMount, gitRoundTrip, npmRoundTrip, tarRoundTrip } from "./agent-scenarios.js";

/**
 * Registers issue 17's acceptance as three vitest tests, as an agent works: a read-write mount
 * changed through `exec` by one workspace, then read back by a new workspace over `fresh()`, a
 * new mount of the same store. git (two commits, a branch, a tag; `log`, `fsck --full`, `status`
 * and an executable script from the new workspace), `npm install` of a package with a bin then
 * `npx`, and a tar of a tree with modes, empty folders and in-tree symlinks compared exactly.
 *
 * ```ts
 * describeAgentRoundTrips("S3Bucket on moto", (prefix) => () => S3Bucket({ bucket, prefix, mode: "read-write" }));
 * ```
 */
export function describeAgentRoundTrips(
  name: string,
  fresh: (scenario: "git" | "npm" | "tar") => FreshMount,
  options: {
    readonly timeoutMs?: number;
    /** The tar tree also holds a 0700 folder and a 0555 folder with a file (stores that keep folder modes). */
    readonly folderModes?: boolean;
  } = {},
): void {
  describe(`${name}: an agent's round trips`, { timeout: options.timeoutMs ?? 240_000 }, () => {
    it("git: init, two commits, a branch and a tag; a new workspace logs, fscks clean, status clean, runs the script", async () => {
      const r = await gitRoundTrip(fresh("git"));
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
    });

    it("npm install of a local package with a bin, then npx of it from a new workspace", async () => {
      const r = await npmRoundTrip(fresh("npm"));
      expect(r.write.exec.exitCode, r.write.exec.stderr).toBe(0);
      expect(r.write.exec.changes.errors).toEqual([]);
      expect(r.write.closeError).toBeUndefined();
      expect(r.npx).toMatchObject({ exitCode: 0, stdout: "hello from bin\n" });
    });

    it("tar: a tree with modes, empty folders and symlinks reads back equal (tar --compare, listing with modes)", async () => {
      const r = await tarRoundTrip(fresh("tar"), { folderModes: options.folderModes === true });
      expect(r.write.exec.exitCode, r.write.exec.stderr).toBe(0);
      expect(r.write.exec.changes.errors).toEqual([]);
      expect(r.write.closeError).toBeUndefined();
      expect(r.listingAfter.stdout).toBe(r.listingBefore);
      expect(r.compare).toMatchObject({ exitCode: 0, stdout: "" });
    });
  });
}
