import { randomBytes } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FaultProxy, startFaultProxy } from "../test/fault-proxy.js";
import {
  backendClient,
  bucketName,
  clientConfig,
  createBucket,
  errorOf,
  putObjects,
  serverInfo,
} from "../test/s3-env.js";
import { S3Bucket, type S3BucketMount } from "./s3-bucket.js";
import { createS3Client } from "./sdk-client.js";

// Issue 9 item 9, the read side: a body cut mid-way (reset, truncated) is retried by the mount's
// one retry layer on both read paths, never returned short; the final message counts the real
// attempts; a caller's own S3Client is bounded by timeoutMs too. Real moto behind a fault proxy.
const KEY = "blob.bin";
const BLOB = randomBytes(256 * 1024);

describe("S3Bucket reads when the body is cut (moto behind a fault proxy)", () => {
  const info = serverInfo("moto");
  let proxy: FaultProxy;
  let bucket: string;
  const mounts: S3BucketMount[] = [];
  const clients: S3Client[] = [];
  const paths = [
    { name: "fast path", fastReads: true },
    { name: "SDK path (fastReads: false)", fastReads: false },
  ] as const;
  const mountOf = (fastReads: boolean, maxAttempts = 3, timeoutMs = 60_000): S3BucketMount => {
    const mount = S3Bucket({
      bucket,
      fastReads,
      timeoutMs,
      clientConfig: clientConfig({ ...info, endpoint: proxy.endpoint }, { maxAttempts }),
    });
    mounts.push(mount);
    return mount;
  };
  /** A caller's own client: the SDK's defaults (no socket timeout at all), through the proxy. */
  const givenClient = (maxAttempts = 1): S3Client => {
    const client = createS3Client(clientConfig({ ...info, endpoint: proxy.endpoint }, { maxAttempts }));
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    const backend = backendClient(info);
    bucket = bucketName("cut");
    await createBucket(backend, bucket);
    await putObjects(backend, bucket, { [KEY]: BLOB });
    backend.destroy();
    proxy = await startFaultProxy(info.endpoint);
  });
  afterEach(() => {
    proxy.cutBody("reset", 0, KEY);
    proxy.blackHole(0);
    proxy.slowDown(0);
  });
  afterAll(async () => {
    await Promise.all(mounts.map((m) => m.dispose()));
    for (const client of clients) client.destroy();
    await proxy?.close();
  });

  for (const { name, fastReads } of paths) {
    for (const fault of ["reset", "truncate"] as const) {
      it(`${name}: one ${fault} mid-body is retried once and the whole object comes back`, async () => {
        const mount = mountOf(fastReads);
        proxy.cutBody(fault, 1, KEY);
        const before = proxy.seen.requests;
        const bytes = await mount.fetch(KEY);
        expect(proxy.seen.cut).toBeGreaterThan(0);
        expect(proxy.seen.requests - before).toBe(2);
        expect(bytes.length).toBe(BLOB.length);
        expect(Buffer.compare(Buffer.from(bytes), BLOB)).toBe(0);
      });
    }

    it(`${name}: a body cut on every attempt fails EIO saying the real number of attempts, never short`, async () => {
      const mount = mountOf(fastReads, 3);
      proxy.cutBody("truncate", 100, KEY);
      const before = proxy.seen.requests;
      const error = await errorOf(mount.fetch(KEY));
      expect(proxy.seen.requests - before).toBe(3);
      expect(error).toMatchObject({ code: "EIO", attempts: 3, transient: false });
      expect(error.message).toMatch(/after 3 attempts/);
      expect(error.message).not.toMatch(/after retries/);
    });

    it(`${name}: with one attempt allowed, the message claims no retries`, async () => {
      const mount = mountOf(fastReads, 1);
      proxy.cutBody("reset", 100, KEY);
      const error = await errorOf(mount.fetch(KEY));
      expect(error.code).toBe("EIO");
      expect(error.message).not.toMatch(/retries|attempts/);
    });

    it(`${name}: a body that stalls is timed out (timeoutMs), retried, and read whole`, async () => {
      const mount = mountOf(fastReads, 3, 1000);
      proxy.cutBody("stall", 1, KEY);
      const started = Date.now();
      const bytes = await mount.fetch(KEY);
      expect(Buffer.compare(Buffer.from(bytes), BLOB)).toBe(0);
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  }

  describe("a caller-supplied S3Client (the SDK's defaults: no timeout of its own)", () => {
    it("a reset mid-body is retried by the mount's retry layer", async () => {
      const mount = S3Bucket({ bucket, client: givenClient(), fastReads: false });
      mounts.push(mount);
      proxy.cutBody("reset", 1, KEY);
      expect(Buffer.compare(Buffer.from(await mount.fetch(KEY)), BLOB)).toBe(0);
    });

    it("a stalled body is bounded by timeoutMs, retried, and read whole", async () => {
      const mount = S3Bucket({ bucket, client: givenClient(), fastReads: false, timeoutMs: 1000 });
      mounts.push(mount);
      proxy.cutBody("stall", 1, KEY);
      expect(Buffer.compare(Buffer.from(await mount.fetch(KEY)), BLOB)).toBe(0);
    });

    it("a failure the client retried itself says how many attempts the client made", async () => {
      const mount = S3Bucket({ bucket, client: givenClient(2), fastReads: false });
      mounts.push(mount);
      proxy.slowDown(100);
      const before = proxy.seen.requests;
      const error = await errorOf(mount.fetch(KEY));
      expect(proxy.seen.requests - before).toBe(2);
      expect(error).toMatchObject({ code: "EIO", attempts: 2, transient: false });
      expect(error.message).toMatch(/after 2 attempts \(the client's own retries\)/);
    });

    it("a server that never answers fails ETIMEDOUT within timeoutMs per attempt (no read left pending)", async () => {
      const mount = S3Bucket({ bucket, client: givenClient(), fastReads: false, timeoutMs: 500 });
      mounts.push(mount);
      proxy.blackHole(100);
      const started = Date.now();
      const error = await errorOf(mount.fetch(KEY));
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(error.code).toMatch(/ETIMEDOUT|EIO/);
      expect(error.message).toMatch(/500 ms/);
      expect(error.message).toMatch(/after 3 attempts/);
    });
  });
});
