import type { LazyMount } from "@ws/core";
import { applyLayers, type ObserveEvent } from "@ws/provider-kit";
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

describe("S3Bucket under throttling and timeouts (moto behind a fault proxy)", () => {
  const info = serverInfo("moto");
  let proxy: FaultProxy;
  let bucket: string;
  const mounts: S3BucketMount[] = [];
  const mountOf = (maxAttempts: number, timeoutMs = 60_000): S3BucketMount => {
    const mount = S3Bucket({
      bucket,
      timeoutMs,
      clientConfig: clientConfig({ ...info, endpoint: proxy.endpoint }, { maxAttempts }),
    });
    mounts.push(mount);
    return mount;
  };

  beforeAll(async () => {
    const backend = backendClient(info);
    bucket = bucketName("faults");
    await createBucket(backend, bucket);
    await putObjects(backend, bucket, { "a.txt": "a" });
    backend.destroy();
    proxy = await startFaultProxy(info.endpoint);
  });
  afterEach(() => {
    proxy.slowDown(0);
    proxy.blackHole(0);
  });
  afterAll(async () => {
    await Promise.all(mounts.map((m) => m.dispose()));
    await proxy?.close();
  });

  it("retries SlowDown (503) with back-off and then succeeds", async () => {
    const mount = mountOf(4);
    proxy.slowDown(2);
    const before = proxy.seen.requests;
    const sdkBefore = proxy.seen.sdkRequests;
    expect(new TextDecoder().decode(await mount.fetch("a.txt"))).toBe("a");
    expect(proxy.seen.requests - before).toBe(3);
    // These reads went the fast path (the mount's own signed GETs), not through the SDK.
    expect(proxy.seen.sdkRequests - sdkBefore).toBe(0);
  });

  it("retries SlowDown on the SDK read path too (fastReads: false)", async () => {
    const mount = S3Bucket({
      bucket,
      fastReads: false,
      clientConfig: clientConfig({ ...info, endpoint: proxy.endpoint }, { maxAttempts: 4 }),
    });
    mounts.push(mount);
    proxy.slowDown(2);
    const before = proxy.seen.requests;
    const sdkBefore = proxy.seen.sdkRequests;
    expect(new TextDecoder().decode(await mount.fetch("a.txt"))).toBe("a");
    expect(proxy.seen.requests - before).toBe(3);
    expect(proxy.seen.sdkRequests - sdkBefore).toBe(3);
  });

  it("gives up after maxAttempts with EIO, naming SlowDown, with the cause", async () => {
    const mount = mountOf(2);
    proxy.slowDown(10);
    const before = proxy.seen.requests;
    const error = await errorOf(mount.fetch("a.txt"));
    expect(proxy.seen.requests - before).toBe(2);
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/SlowDown, HTTP 503/);
    expect((error.cause as Error).name).toBe("SlowDown");
  });

  it("times out a request that is never answered, retries it, and succeeds", async () => {
    const mount = mountOf(3, 1000);
    proxy.blackHole(1);
    const before = proxy.seen.requests;
    expect(new TextDecoder().decode(await mount.fetch("a.txt"))).toBe("a");
    expect(proxy.seen.requests - before).toBe(2);
  });

  it("fails EIO when every attempt times out (no hang)", async () => {
    const mount = mountOf(2, 500);
    proxy.blackHole(10);
    const error = await errorOf(mount.list());
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/timed out|timeout|ETIMEDOUT|socket hang up|ECONNRESET/i);
  });
});

// Issue 8 item 5: retries happen in exactly one place. The proxy counts what reaches the server
// while a put or a read fails transiently, through a mount wrapped as the workspace wraps it.
describe("retries in one place: requests reaching moto through applyLayers", () => {
  const info = serverInfo("moto");
  let proxy: FaultProxy;
  let bucket: string;
  const mounts: S3BucketMount[] = [];
  const layered = (
    maxAttempts: number,
    layerAttempts: number,
    extra: Partial<Parameters<typeof S3Bucket>[0]> = {},
  ): { mount: LazyMount; events: ObserveEvent[] } => {
    const s3 = S3Bucket({
      bucket,
      mode: "read-write",
      clientConfig: clientConfig({ ...info, endpoint: proxy.endpoint }, { maxAttempts }),
      ...extra,
    });
    mounts.push(s3);
    const events: ObserveEvent[] = [];
    const mount = applyLayers(s3, {
      root: "/w/data",
      retry: { attempts: layerAttempts, baseMs: 5 },
      concurrency: 4,
      observe: (event) => events.push(event),
    }) as LazyMount;
    return { mount, events };
  };
  const summary = (events: ObserveEvent[]) =>
    events.map(
      (e) =>
        `${e.op} ${e.path} #${e.attempt} ${e.error?.code ?? "ok"}${e.retryInMs !== undefined ? " retry" : ""}`,
    );

  beforeAll(async () => {
    const backend = backendClient(info);
    bucket = bucketName("one-retry");
    await createBucket(backend, bucket);
    await putObjects(backend, bucket, { "r.txt": "read me" });
    backend.destroy();
    proxy = await startFaultProxy(info.endpoint);
  });
  afterEach(() => proxy.slowDown(0));
  afterAll(async () => {
    await Promise.all(mounts.map((m) => m.dispose()));
    await proxy?.close();
  });

  it("a put failing transiently reaches the server at most `attempts` times, then fails persistent", async () => {
    const { mount, events } = layered(3, 3);
    proxy.slowDown(1000);
    const before = proxy.seen.requests;
    const error = await errorOf(mount.put?.("p.txt", new TextEncoder().encode("x")) ?? Promise.resolve());
    expect(proxy.seen.requests - before).toBe(3);
    expect(error).toMatchObject({ code: "EIO", transient: false, attempts: 3, root: "/w/data" });
    expect(error.message).toMatch(/gave up after 3 attempts/);
    expect(summary(events)).toEqual(["put p.txt #1 EIO retry", "put p.txt #2 EIO retry", "put p.txt #3 EIO"]);
  });

  it("a put that fails twice succeeds on the third request, and the retries show up as events", async () => {
    const { mount, events } = layered(4, 4);
    proxy.slowDown(2);
    const before = proxy.seen.requests;
    await mount.put?.("q.txt", new TextEncoder().encode("q"));
    expect(proxy.seen.requests - before).toBe(3);
    expect(summary(events)).toEqual(["put q.txt #1 EIO retry", "put q.txt #2 EIO retry", "put q.txt #3 ok"]);
  });

  it("a read failing transiently reaches the server at most `attempts` times (fast path and SDK path)", async () => {
    for (const fastReads of [true, false]) {
      const { mount, events } = layered(3, 3, { fastReads });
      proxy.slowDown(1000);
      const before = proxy.seen.requests;
      const error = await errorOf(mount.fetch("r.txt"));
      expect(proxy.seen.requests - before).toBe(3);
      expect(error).toMatchObject({ code: "EIO", attempts: 3, transient: false });
      expect(summary(events)).toEqual([
        "fetch r.txt #1 EIO retry",
        "fetch r.txt #2 EIO retry",
        "fetch r.txt #3 EIO",
      ]);
      proxy.slowDown(1);
      const ok = await mount.fetch("r.txt");
      expect(new TextDecoder().decode(ok)).toBe("read me");
    }
  });

  it("never multiplies: the layer does not retry what the mount already retried (3, not 3 × 6 = 18)", async () => {
    const { mount } = layered(3, 6);
    proxy.slowDown(1000);
    const before = proxy.seen.requests;
    const put = await errorOf(mount.put?.("m.txt", new Uint8Array([1])) ?? Promise.resolve());
    expect(proxy.seen.requests - before).toBe(3);
    expect(put.attempts).toBe(3);
    const mid = proxy.seen.requests;
    await errorOf(mount.fetch("r.txt"));
    expect(proxy.seen.requests - mid).toBe(3);
  });
});
