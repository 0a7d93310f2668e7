import * as diagnostics from "node:diagnostics_channel";
import type { S3Client } from "@aws-sdk/client-s3";
import { cacheBudgetModel } from "@ws/testkit";
import { Workspace } from "@ws/workspace";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  backendClient,
  bucketName,
  clientConfig,
  codeOf,
  createBucket,
  putObjects,
  serverInfo,
} from "../test/s3-env.js";
import { S3Bucket } from "./s3-bucket.js";

// Issue 16 on a real server: fetchRange on both read paths (the signed fast path and the SDK's
// GetObject), and the content budget's model check over moto.
const info = serverInfo("moto");
let backend: S3Client;
let bucket: string;
const mounts: Array<{ dispose(): Promise<void> }> = [];

function bytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + seed + (i >>> 9)) & 0xff;
  return out;
}

beforeAll(async () => {
  backend = backendClient(info);
  bucket = bucketName("cache");
  await createBucket(backend, bucket);
});
afterAll(async () => {
  await Promise.all(mounts.map((m) => m.dispose()));
  backend?.destroy();
});

describe.each([true, false])("S3Bucket.fetchRange on moto, fastReads: %s", (fastReads) => {
  const data = bytes(70_000, 3);
  beforeAll(async () => {
    await putObjects(backend, bucket, { "r/data.bin": data, "r/empty.bin": new Uint8Array(0) });
  });
  const mount = () => {
    const m = S3Bucket({ bucket, prefix: "r", clientConfig: clientConfig(info), fastReads });
    mounts.push(m);
    return m;
  };

  it("answers [start, end): inner ranges, the last byte, clipped past the end, empty past it", async () => {
    const m = mount();
    expect(await m.fetchRange!("data.bin", 0, 1)).toEqual(data.subarray(0, 1));
    expect(await m.fetchRange!("data.bin", 65_530, 65_542)).toEqual(data.subarray(65_530, 65_542));
    expect(await m.fetchRange!("data.bin", data.length - 1, data.length + 50)).toEqual(data.subarray(-1));
    expect((await m.fetchRange!("data.bin", data.length, data.length + 5)).length).toBe(0);
    expect((await m.fetchRange!("empty.bin", 0, 10)).length).toBe(0);
    expect((await m.fetchRange!("data.bin", 9, 9)).length).toBe(0);
    expect(await codeOf(m.fetchRange!("absent.bin", 0, 10))).toBe("ENOENT");
    expect(await codeOf(m.fetchRange!("data.bin", -1, 10))).toBe("EINVAL");
  });

  it("with a caller's buffer: the fast path writes a 206 into it (no buffer per range), the SDK path returns a fresh one", async () => {
    const m = mount();
    await m.list();
    const into = new Uint8Array(40_000);
    // The fast path's ranges go through the mount's node:http agent, never undici.
    let undiciRequests = 0;
    const onRequest = (): void => {
      undiciRequests++;
    };
    diagnostics.subscribe("undici:request:create", onRequest);
    onTestFinished(() => {
      diagnostics.unsubscribe("undici:request:create", onRequest);
    });
    for (const [start, end] of [
      [0, 16],
      [100, 40_100],
      [65_000, 80_000],
    ] as const) {
      const got = await m.fetchRange!("data.bin", start, end, into);
      expect(Buffer.from(got).equals(Buffer.from(data.subarray(start, Math.min(end, data.length))))).toBe(
        true,
      );
      expect(got.buffer === into.buffer).toBe(fastReads);
    }
    expect(undiciRequests).toBe(0);
  });

  it("ws.fs.open reads a part of a large object without fetching it whole", async () => {
    const large = bytes(3 * 1024 * 1024 + 11, 4);
    await putObjects(backend, bucket, { "r/large.bin": large });
    const ws = new Workspace({ mounts: { "/s3": mount() } });
    const fetched: number[] = [];
    ws.on("fetch", (e) => fetched.push(e.bytes));
    const handle = await ws.fs.open("/s3/large.bin");
    const buffer = new Uint8Array(1000);
    await handle.read(buffer, 0, 1000, 2 * 1024 * 1024);
    expect(buffer).toEqual(large.subarray(2 * 1024 * 1024, 2 * 1024 * 1024 + 1000));
    await handle.close();
    expect(fetched.reduce((a, b) => a + b, 0)).toBeLessThan(1024 * 1024);
    await ws.close();
  });
});

describe("content budget over moto (model)", () => {
  for (const seed of [11, 12]) {
    it(`seed ${seed}: reads equal upstream, dirty files never evicted, resident within budget + largest file`, async () => {
      const prefix = `model-${seed}`;
      const result = await cacheBudgetModel({
        seed,
        ops: 250,
        async setup(files) {
          await putObjects(
            backend,
            bucket,
            Object.fromEntries(Object.entries(files).map(([k, v]) => [`${prefix}/${k}`, v])),
          );
          return () => {
            const m = S3Bucket({
              bucket,
              prefix,
              clientConfig: clientConfig(info),
              mode: "read-write",
              writeBack: "manual",
            });
            mounts.push(m);
            return m;
          };
        },
      });
      expect(result.evictions).toBeGreaterThan(0);
    }, 120_000);
  }
});
