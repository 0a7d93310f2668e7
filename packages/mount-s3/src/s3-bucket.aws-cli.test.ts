import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { S3Client } from "@aws-sdk/client-s3";
import { findExecutable } from "@ws/test-servers";
import { Workspace } from "@ws/workspace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendClient, bucketName, clientConfig, createBucket, serverInfo } from "../test/s3-env.js";
import { S3Bucket } from "./s3-bucket.js";

const run = promisify(execFile);
const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

// The real `aws` CLI (botocore, an independent S3 client) against the same moto server.
describe("cross-checks with the aws CLI (moto)", () => {
  const info = serverInfo("moto");
  let backend: S3Client;
  let bucket: string;
  let dir: string;
  const aws = (...args: string[]) =>
    run("aws", [...args, "--endpoint-url", info.endpoint], {
      timeout: 60_000,
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: info.accessKeyId,
        AWS_SECRET_ACCESS_KEY: info.secretAccessKey,
        AWS_DEFAULT_REGION: info.region,
        AWS_CONFIG_FILE: "/dev/null",
        AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      },
    });

  beforeAll(async () => {
    // A missing CLI fails the file with what to install, rather than with a spawn ENOENT.
    if (!(await findExecutable("aws"))) {
      throw new Error("the aws CLI is not installed: pip install awscli (or apt-get install awscli)");
    }
    backend = backendClient(info);
    bucket = bucketName("cli");
    await createBucket(backend, bucket);
    dir = await mkdtemp(join(tmpdir(), "ws-s3-cli-"));
  });
  afterAll(async () => {
    backend?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("an object written through the mount reads back identically with aws s3api get-object", async () => {
    const ws = new Workspace({
      mounts: {
        "/data": S3Bucket({
          bucket,
          prefix: "ws",
          mode: "read-write",
          writeBack: "manual",
          clientConfig: clientConfig(info),
        }),
      },
    });
    try {
      const small = new Uint8Array(randomBytes(100_000));
      const large = new Uint8Array(randomBytes(20 * 1024 * 1024)); // above the multipart threshold
      await ws.fs.mkdir("/data/dir", { recursive: true });
      await ws.fs.writeFile("/data/dir/small.bin", small);
      await ws.fs.writeFile("/data/large.bin", large);
      await ws.flushMounts();
      for (const [key, bytes] of [
        ["ws/dir/small.bin", small],
        ["ws/large.bin", large],
      ] as const) {
        const out = join(dir, key.replaceAll("/", "_"));
        await aws("s3api", "get-object", "--bucket", bucket, "--key", key, out);
        const read = new Uint8Array(await readFile(out));
        expect(read.length).toBe(bytes.length);
        expect(sha256(read)).toBe(sha256(bytes));
      }
    } finally {
      await ws.close();
    }
  });

  it("an object written with the aws CLI appears after refreshMount", async () => {
    const ws = new Workspace({
      mounts: { "/data": S3Bucket({ bucket, prefix: "cli", clientConfig: clientConfig(info) }) },
    });
    try {
      const first = join(dir, "first.txt");
      await writeFile(first, "first");
      await aws("s3api", "put-object", "--bucket", bucket, "--key", "cli/first.txt", "--body", first);
      expect((await ws.fs.readdir("/data")).sort()).toEqual(["first.txt"]);
      const body = join(dir, "from-cli.txt");
      await writeFile(body, "written by the aws CLI\n");
      await aws("s3", "cp", body, `s3://${bucket}/cli/sub/from cli.txt`);
      expect(await ws.fs.readdir("/data")).not.toContain("sub");
      await ws.refreshMount("/data");
      expect((await ws.fs.readdir("/data")).sort()).toEqual(["first.txt", "sub"]);
      const read = await ws.fs.readFile("/data/sub/from cli.txt");
      expect(new TextDecoder().decode(read)).toBe("written by the aws CLI\n");
    } finally {
      await ws.close();
    }
  });
});
