import type { S3Client } from "@aws-sdk/client-s3";
import { Workspace } from "@ws/workspace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  apiAppendDuringCommand,
  cmakeAcrossCommands,
  flockCounter,
  largeFileStreamed,
  makeRebuilds,
  pycNotRewritten,
  unseenNeverOverwrites,
  venvAcrossCommands,
} from "../../workspace/test/exec-scenarios.js";
import {
  backendClient,
  bucketName,
  clientConfig,
  createBucket,
  putObjects,
  serverInfo,
} from "../test/s3-env.js";
import { S3Bucket } from "./s3-bucket.js";

// Issue 18's agent scenarios (the same functions the MemoryMount tests run) over a read-write
// S3Bucket on moto: exec as the container side, a lasting directory kept in sync with the bucket.
describe("S3Bucket on moto: exec as the container side", { timeout: 120_000 }, () => {
  const info = serverInfo("moto");
  let backend: S3Client;
  let bucket: string;
  const fresh = (prefix: string) => () =>
    S3Bucket({ bucket, prefix, mode: "read-write", clientConfig: clientConfig(info) });

  beforeAll(async () => {
    backend = backendClient(info);
    bucket = bucketName("exec");
    await createBucket(backend, bucket);
  });
  afterAll(() => backend?.destroy());

  it("two concurrent commands incrementing a counter 5 times each under flock give 10", async () => {
    await flockCounter(fresh("flock"));
  });

  it("a venv made in one command is used by pip in the next", async () => {
    await venvAcrossCommands(fresh("venv"));
  });

  it("CMake: configure in one command, build in the next, rebuild after an API change", async () => {
    await cmakeAcrossCommands(fresh("cmake"));
  });

  it("make rebuilds exactly after an input changed through the API or a command", async () => {
    await makeRebuilds(fresh("make"));
  });

  it("unchanged sources do not make Python rewrite .pyc files (0 puts)", async () => {
    await pycNotRewritten(fresh("pyc"));
  });

  it("an API append acknowledged during a long command is a conflict through the hook", async () => {
    await apiAppendDuringCommand(fresh("during"));
  });

  it("stubs the command could not see are never overwritten (log, README, SQLite, lockfile, mkdir -p)", async () => {
    await unseenNeverOverwrites(fresh("unseen"));
  });

  it("rm -rf of 1,000 files is one DeleteObjects request (counted at the client; the exec path: exec.cost.test.ts)", async () => {
    const files: Record<string, string> = { "batch/keep.txt": "k" };
    for (let i = 0; i < 1000; i++) files[`batch/big/d${i % 10}/f${i}.txt`] = `${i}`;
    await putObjects(backend, bucket, files);
    const client = backendClient(info);
    const sent: string[] = [];
    client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: "initialize", name: "countCommands" },
    );
    const ws = new Workspace({
      mounts: {
        "/m": S3Bucket({ bucket, prefix: "batch", mode: "read-write", writeBack: "manual", client }),
      },
    });
    // Stubs are deleted without being fetched; the flush sends the 1,000 deletes as one batch.
    await ws.fs.rm("/m/big", { recursive: true, force: true });
    await ws.flushMounts();
    const deletes = sent.filter((c) => c.startsWith("DeleteObject"));
    expect(deletes).toEqual(["DeleteObjectsCommand"]);
    expect([ws.stats.deletes, ws.stats.deleteRequests]).toEqual([1000, 1]);
    await ws.close();
    client.destroy();
    const check = new Workspace({
      mounts: { "/m": S3Bucket({ bucket, prefix: "batch", clientConfig: clientConfig(info) }) },
    });
    expect(await check.fs.readdir("/m")).toEqual(["keep.txt"]);
    await check.close();
  });

  it("a large file a command writes goes up part by part and stays a stub (issue 18.5)", async () => {
    const MiB = 1024 * 1024;
    const client = backendClient(info);
    const sent: string[] = [];
    client.middlewareStack.add(
      (next, context) => (args) => {
        const input = args.input as { Key?: string; IfMatch?: string };
        if (input.Key === "large/big.bin")
          sent.push(`${String(context.commandName)}${input.IfMatch ? " IfMatch" : ""}`);
        return next(args);
      },
      { step: "initialize", name: "countCommands" },
    );
    const mount = () =>
      S3Bucket({
        bucket,
        prefix: "large",
        mode: "read-write",
        client,
        partSize: 5 * MiB,
        multipartThreshold: 5 * MiB,
      });
    await largeFileStreamed(mount, 12 * MiB + 3, 6 * MiB);
    client.destroy();
    // The new file: a multipart upload of three parts. The command's edit: one streamed PutObject
    // with the version it was based on (a precondition goes with a single put), then the reads.
    expect(sent.filter((c) => !c.startsWith("GetObject") && !c.startsWith("HeadObject"))).toEqual([
      "CreateMultipartUploadCommand",
      "UploadPartCommand",
      "UploadPartCommand",
      "UploadPartCommand",
      "CompleteMultipartUploadCommand",
      "PutObjectCommand IfMatch",
    ]);
  });
});
