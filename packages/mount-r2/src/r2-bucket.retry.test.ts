import { type LazyMount, MountError } from "@ws/core";
import { applyLayers, type ObserveEvent } from "@ws/provider-kit";
import { type MiniflareR2Server, startMiniflareR2 } from "@ws/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { R2BucketBinding } from "./r2-binding.js";
import { R2Bucket } from "./r2-bucket.js";

// Faults in front of the real Miniflare binding: the next `failures` calls of one method throw
// what R2 throws for an internal error; every call is counted, then passed to Miniflare.
function flaky(binding: R2BucketBinding) {
  const state = {
    failures: 0,
    calls: { get: 0, put: 0, list: 0 },
    error: "get: We encountered an internal error (10001)",
  };
  const fail = (): void => {
    if (state.failures > 0) {
      state.failures--;
      throw new Error(state.error);
    }
  };
  const wrapped: R2BucketBinding = {
    list: async (options) => {
      state.calls.list++;
      fail();
      return binding.list(options);
    },
    get: async (key, options) => {
      state.calls.get++;
      fail();
      return binding.get(key, options);
    },
    put: async (key, value, options) => {
      state.calls.put++;
      fail();
      return binding.put(key, value, options);
    },
    head: (key) => binding.head(key),
    delete: (keys) => binding.delete(keys),
  };
  return { state, wrapped };
}

let server: MiniflareR2Server;
let bucket: R2BucketBinding;

beforeAll(async () => {
  server = await startMiniflareR2({ buckets: ["BUCKET"] });
  bucket = await server.bucket<R2BucketBinding>("BUCKET");
  await bucket.put("retry/a.txt", new TextEncoder().encode("a"));
});
afterAll(async () => {
  await server?.stop();
});

describe("R2Bucket under the retry layer", () => {
  it("retries a transiently failing read (R2 never did before the kit), reporting each attempt", async () => {
    const { state, wrapped } = flaky(bucket);
    const events: ObserveEvent[] = [];
    const mount = applyLayers(R2Bucket(wrapped, { prefix: "retry" }), {
      root: "/w/r2",
      retry: { attempts: 3, baseMs: 1 },
      observe: (e) => events.push(e),
    }) as LazyMount;
    state.failures = 2;
    expect(new TextDecoder().decode(await mount.fetch("a.txt"))).toBe("a");
    expect(state.calls.get).toBe(3);
    expect(events.map((e) => [e.op, e.attempt, e.error?.code, e.retryInMs !== undefined])).toEqual([
      ["fetch", 1, "EIO", true],
      ["fetch", 2, "EIO", true],
      ["fetch", 3, undefined, false],
    ]);
  });

  it("gives up after the configured attempts (reads, lists and writes alike) with a persistent error", async () => {
    const { state, wrapped } = flaky(bucket);
    const mount = applyLayers(R2Bucket(wrapped, { prefix: "retry", mode: "read-write" }), {
      root: "/w/r2",
      retry: { attempts: 3, baseMs: 1 },
    }) as LazyMount;
    for (const [op, run] of [
      ["get", () => mount.fetch("a.txt")],
      ["list", () => mount.list()],
      ["put", () => mount.put?.("b.txt", new Uint8Array([1])) ?? Promise.resolve()],
    ] as const) {
      state.failures = 100;
      const before = state.calls[op];
      const error = await run().catch((e: unknown) => e);
      expect(MountError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ code: "EIO", transient: false, attempts: 3, root: "/w/r2" });
      expect(state.calls[op] - before).toBe(3);
    }
  });

  it("does not retry what will not change (a missing key, a refused precondition)", async () => {
    const { state, wrapped } = flaky(bucket);
    const mount = applyLayers(R2Bucket(wrapped, { prefix: "retry", mode: "read-write" }), {
      root: "/w/r2",
      retry: { attempts: 3, baseMs: 1 },
    }) as LazyMount;
    expect(await mount.fetch("missing.txt").catch((e: MountError) => e.code)).toBe("ENOENT");
    expect(state.calls.get).toBe(1);
    const put = mount.put?.("a.txt", new Uint8Array([1]), { ifNoneMatch: "*" }) ?? Promise.resolve();
    expect(await put.catch((e: MountError) => e.code)).toBe("EEXIST");
    expect(state.calls.put).toBe(1);
  });
});
