import type { S3Client } from "@aws-sdk/client-s3";
import { gitRoundTrip, npmRoundTrip, tarRoundTrip } from "@ws/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendClient, bucketName, clientConfig, createBucket, serverInfo } from "../test/s3-env.js";
import { S3Bucket } from "./s3-bucket.js";

// Issue 17's acceptance, as an agent works: a read-write S3Bucket on moto, changed through exec by
// one workspace, read back by a new workspace over a fresh mount of the same bucket and prefix.
describe("S3Bucket on moto: an agent's round trips", { timeout: 240_000 }, () => {
  const info = serverInfo("moto");
  let backend: S3Client;
  let bucket: string;
  const fresh = (prefix: string) => () =>
    S3Bucket({ bucket, prefix, mode: "read-write", clientConfig: clientConfig(info) });

  beforeAll(async () => {
    backend = backendClient(info);
    bucket = bucketName("agent");
    await createBucket(backend, bucket);
  });
  afterAll(() => backend?.destroy());

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
    // With a 0700 folder and a 0555 folder holding a file: folder modes are kept on the markers.
    const r = await tarRoundTrip(fresh("tar"), { folderModes: true });
    expect(r.write.exec.exitCode, r.write.exec.stderr).toBe(0);
    expect(r.write.exec.changes.errors).toEqual([]);
    expect(r.write.closeError).toBeUndefined();
    expect(r.listingAfter.stdout).toBe(r.listingBefore);
    expect(r.compare).toMatchObject({ exitCode: 0, stdout: "" });
  });
});
