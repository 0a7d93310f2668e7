import { inspect } from "node:util";
import type { S3Client } from "@aws-sdk/client-s3";
import { MountError } from "@ws/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  backendClient,
  bucketName,
  clientConfig,
  createBucket,
  putObjects,
  serverInfo,
} from "../test/s3-env.js";
import { S3Bucket, type S3BucketMount } from "./s3-bucket.js";

// Swift checks S3 signatures against its tempauth users (moto accepts any key), so the
// wrong-credentials cases run there.
const info = serverInfo("swift");
const WRONG_SECRET = "wrong-secret-Zq8vKx3pL0mN7rT2";

async function errorOf(promise: Promise<unknown>): Promise<MountError> {
  try {
    await promise;
  } catch (error) {
    if (MountError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

/** Everything a log line could show of an error: message, stack, cause chain, JSON, inspect. */
function everything(error: MountError): string {
  return [
    error.message,
    error.stack,
    inspect(error, { depth: 10 }),
    JSON.stringify(error),
    String(error.cause),
  ].join("\n");
}

describe("S3Bucket with wrong credentials (Swift)", () => {
  let backend: S3Client;
  let bucket: string;
  const mounts: S3BucketMount[] = [];
  const mountWith = (accessKeyId: string, secretAccessKey: string): S3BucketMount => {
    const mount = S3Bucket({
      bucket,
      mode: "read-write",
      clientConfig: { ...clientConfig(info), credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 },
    });
    mounts.push(mount);
    return mount;
  };

  beforeAll(async () => {
    backend = backendClient(info);
    bucket = bucketName("sec");
    await createBucket(backend, bucket);
    await putObjects(backend, bucket, { "a.txt": "a" });
  });
  afterAll(async () => {
    await Promise.all(mounts.map((m) => m.dispose()));
    backend?.destroy();
  });

  it("fails list, fetch, put and delete with EACCES for a wrong secret, and never shows the secret", async () => {
    const mount = mountWith(info.accessKeyId, WRONG_SECRET);
    for (const operation of [
      () => mount.list(),
      () => mount.fetch("a.txt"),
      () => mount.put("b.txt", new Uint8Array([1])),
      () => mount.delete("a.txt"),
    ]) {
      const error = await errorOf(operation());
      expect(error.code).toBe("EACCES");
      expect(error.message).toMatch(/permission denied/);
      expect(everything(error)).not.toContain(WRONG_SECRET);
    }
  });

  it("fails EACCES for an unknown access key", async () => {
    const error = await errorOf(mountWith("nobody:nobody", WRONG_SECRET).list());
    expect(error.code).toBe("EACCES");
    expect(everything(error)).not.toContain(WRONG_SECRET);
  });

  it("keeps the real secret out of errors too", async () => {
    const mount = mountWith(info.accessKeyId, info.secretAccessKey);
    const error = await errorOf(mount.fetch("missing.txt"));
    expect(error.code).toBe("ENOENT");
    expect(everything(error)).not.toContain(info.secretAccessKey);
  });
});
