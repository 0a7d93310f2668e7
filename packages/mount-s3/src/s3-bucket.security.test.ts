import { inspect } from "node:util";
import type { S3Client } from "@aws-sdk/client-s3";
import type { MountError } from "@ws/core";
import { type S3ServerInfo, type S3TestServer, startMoto } from "@ws/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  backendClient,
  bucketName,
  clientConfig,
  createBucket,
  errorOf,
  putObjects,
  SERVER_NAMES,
  serverInfo,
} from "../test/s3-env.js";
import { S3Bucket, type S3BucketMount } from "./s3-bucket.js";

const WRONG_SECRET = "wrong-secret-Zq8vKx3pL0mN7rT2";

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

// Swift checks credentials against its tempauth users (the run's shared Swift); moto against IAM,
// in a moto of this file's own with IAM auth on. The mounts have no prefix: moto 5.2 with auth on
// rejects valid signatures of prefixed listings.
describe.each(SERVER_NAMES)("S3Bucket with wrong credentials (%s)", (name) => {
  let info: S3ServerInfo;
  let ownMoto: S3TestServer | undefined;
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
    if (name === "moto") {
      ownMoto = await startMoto({ iamAuth: true });
      info = ownMoto.info();
    } else {
      info = serverInfo(name);
    }
    backend = backendClient(info);
    bucket = bucketName("sec");
    await createBucket(backend, bucket);
    await putObjects(backend, bucket, { "a.txt": "a" });
  });
  afterAll(async () => {
    await Promise.all(mounts.map((m) => m.dispose()));
    backend?.destroy();
    await ownMoto?.stop();
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
    const error = await errorOf(
      mountWith(name === "swift" ? "nobody:nobody" : "AKIANOTISSUED0000000", WRONG_SECRET).list(),
    );
    expect(error.code).toBe("EACCES");
    expect(everything(error)).not.toContain(WRONG_SECRET);
  });

  it("fails EACCES for valid credentials without permission, and never shows that secret", async () => {
    const denied = info.deniedCredentials!;
    const mount = mountWith(denied.accessKeyId, denied.secretAccessKey);
    for (const operation of [
      () => mount.list(),
      () => mount.fetch("a.txt"),
      () => mount.put("c.txt", new Uint8Array([1])),
    ]) {
      const error = await errorOf(operation());
      expect(error.code).toBe("EACCES");
      expect(everything(error)).not.toContain(denied.secretAccessKey);
    }
  });

  it("keeps the real secret out of errors too", async () => {
    const mount = mountWith(info.accessKeyId, info.secretAccessKey);
    const error = await errorOf(mount.fetch("missing.txt"));
    expect(error.code).toBe("ENOENT");
    expect(everything(error)).not.toContain(info.secretAccessKey);
  });
});

describe("S3Bucket objects", () => {
  it("do not show static credentials when inspected, serialised or read through mount.options", () => {
    const secret = "inspect-me-not-0123456789abcdef";
    const mount = S3Bucket({
      bucket: "b",
      mode: "read-write",
      ignore: [".cache"],
      clientConfig: {
        region: "us-east-1",
        credentials: { accessKeyId: "AKIAEXAMPLE000000000", secretAccessKey: secret },
      },
    });
    expect(inspect(mount, { depth: 30 })).not.toContain(secret);
    expect(JSON.stringify(mount)).not.toContain(secret);
    expect(mount.options).toEqual({ mode: "read-write", ignore: [".cache"] });
    expect(mount.client).toBeDefined();
  });

  it("rejects a prefix that could leave the bucket's subtree, and ambiguous client options", () => {
    const config = { region: "us-east-1" };
    for (const prefix of ["../x", "a/../b", "a//b", "a\0b"]) {
      expect(() => S3Bucket({ bucket: "b", prefix, clientConfig: config })).toThrow(/EINVAL/);
    }
    expect(S3Bucket({ bucket: "b", prefix: "/team/a/", clientConfig: config }).prefix).toBe("team/a");
    const client = S3Bucket({ bucket: "b", clientConfig: config }).client;
    expect(() => S3Bucket({ bucket: "b", client, clientConfig: config })).toThrow(
      /either client or clientConfig/,
    );
    expect(() => S3Bucket({ bucket: "", clientConfig: config })).toThrow(/EINVAL/);
  });
});
