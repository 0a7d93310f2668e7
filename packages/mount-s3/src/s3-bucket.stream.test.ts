import { createHash } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { patternSource } from "../../workspace/test/pattern-source.js";
import {
  backendClient,
  bucketName,
  clientConfig,
  codeOf,
  createBucket,
  getObject,
  SERVER_NAMES,
  serverInfo,
} from "../test/s3-env.js";
import { S3Bucket } from "./s3-bucket.js";

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

describe.each(SERVER_NAMES)("S3Bucket.putStream on %s", (name) => {
  const info = serverInfo(name);
  let backend: S3Client;
  let bucket: string;
  const mounts: Array<{ dispose(): Promise<void> }> = [];
  const mountOf = (options: Omit<Parameters<typeof S3Bucket>[0], "bucket" | "clientConfig"> = {}) => {
    const mount = S3Bucket({ bucket, clientConfig: clientConfig(info), mode: "read-write", ...options });
    mounts.push(mount);
    return mount;
  };
  beforeAll(async () => {
    backend = backendClient(info);
    bucket = bucketName(`stream-${name}`);
    await createBucket(backend, bucket);
  });
  afterAll(async () => {
    await Promise.all(mounts.map((m) => m.dispose()));
    backend?.destroy();
  });

  it("uploads a large source as a multipart upload, reading only its data, holes sent as zeros", async () => {
    const mount = mountOf({ partSize: 5 * MiB, multipartThreshold: 5 * MiB });
    const source = patternSource(12 * MiB + 3, [
      [0, 100],
      [7 * MiB, 7 * MiB + 4096],
    ]);
    const { etag } = await mount.putStream!("big.bin", source, { mode: 0o640, mtime: 1_700_000_000_000 });
    // Three parts: S3 names a multipart object's etag "<md5 of the parts' md5s>-3".
    expect(etag).toMatch(/-3"?$/);
    expect(source.bytesRead).toBe(100 + 4096);
    const stored = (await getObject(backend, bucket, "big.bin"))!;
    expect(stored.length).toBe(source.size);
    expect(sha256(stored)).toBe(sha256(source.whole()));
    const info_ = await mount.stat("big.bin");
    expect(info_?.meta.mode).toBeDefined();
  });

  it("reads a source below the multipart threshold whole and puts it once", async () => {
    const mount = mountOf({ partSize: 5 * MiB, multipartThreshold: 16 * MiB });
    const source = patternSource(MiB, [[10, 20]]);
    const { etag } = await mount.putStream!("small.bin", source);
    expect(etag).not.toMatch(/-\d+"?$/);
    expect(sha256((await getObject(backend, bucket, "small.bin"))!)).toBe(sha256(source.whole()));
  });

  it("streams a conditional write as one PutObject and refuses a stale one (Swift: ENOTSUP)", async () => {
    const mount = mountOf({ partSize: 5 * MiB, multipartThreshold: 5 * MiB });
    if (name === "swift") {
      // Swift's s3api answers 501 to conditional PUTs: refused by name, nothing written.
      expect(
        await codeOf(mount.putStream!("cond.bin", patternSource(6 * MiB, [[0, 10]]), { ifNoneMatch: "*" })),
      ).toBe("ENOTSUP");
      expect(await getObject(backend, bucket, "cond.bin")).toBeUndefined();
      return;
    }
    const first = await mount.putStream!("cond.bin", patternSource(6 * MiB, [[0, 6 * MiB]]), {
      ifNoneMatch: "*",
    });
    expect(first.etag).toBeDefined();
    expect(
      await codeOf(mount.putStream!("cond.bin", patternSource(6 * MiB, [[0, 10]]), { ifNoneMatch: "*" })),
    ).toBe("EEXIST");
    const second = patternSource(6 * MiB, [[5, 50]]);
    await mount.putStream!("cond.bin", second, { ifMatch: first.etag! });
    expect(sha256((await getObject(backend, bucket, "cond.bin"))!)).toBe(sha256(second.whole()));
    expect(await codeOf(mount.putStream!("cond.bin", second, { ifMatch: first.etag! }))).toBe("ESTALE");
  });

  it("refuses a source whose extents leave the file, before any request", async () => {
    const mount = mountOf();
    expect(await codeOf(mount.putStream!("bad.bin", patternSource(10, [[5, 20]])))).toBe("EINVAL");
    const ro = S3Bucket({ bucket, clientConfig: clientConfig(info) });
    mounts.push(ro);
    expect(await codeOf(ro.putStream!("x.bin", patternSource(10, [[0, 10]])))).toBe("EROFS");
  });
});
