import { Worker } from "node:worker_threads";
import { type MiniflareR2Server, startMiniflareR2 } from "@ws/test-servers";
import { afterEach, describe, expect, it } from "vitest";
import type { R2BucketBinding } from "../src/r2-binding.js";
import { atomicsWaitGuarded, unguardedWait } from "./atomics-wait-guard.js";

// The race the guard closes (see atomics-wait-guard.ts) needs a thread preempted at one
// instruction; the late notify it leaves is modelled here by a thread that notifies the flag
// Miniflare's proxy waits on, every 0.2 ms, while the proxy is being called.

/** A thread notifying `flag` until stopped; `stop()` (idempotent) answers how many sleeping waiters it woke. */
function strayNotifier(flag: Int32Array): { stop(): Promise<number> } {
  const control = new Int32Array(new SharedArrayBuffer(8)); // [stop, woken]
  const worker = new Worker(
    `const { workerData: { flag, control } } = require("node:worker_threads");
     const nap = new Int32Array(new SharedArrayBuffer(4));
     while (Atomics.load(control, 0) === 0) {
       Atomics.add(control, 1, Atomics.notify(flag, 0));
       Atomics.wait(nap, 0, 0, 0.2);
     }`,
    { eval: true, workerData: { flag, control } },
  );
  const exited = new Promise((resolve) => worker.once("exit", resolve));
  return {
    async stop() {
      Atomics.store(control, 0, 1);
      await exited;
      return Atomics.load(control, 1);
    },
  };
}

/** The flag Miniflare's proxy waits on, caught on its next synchronous call (`read()`). */
function proxyFlag(read: () => unknown): Int32Array {
  const wait = Atomics.wait;
  let flag: Int32Array | undefined;
  Atomics.wait = ((typedArray: Int32Array, index: number, value: number, timeout?: number) => {
    if (typedArray.buffer instanceof SharedArrayBuffer && typedArray.length === 1) flag ??= typedArray;
    return wait(typedArray, index, value, timeout);
  }) as typeof Atomics.wait;
  try {
    read();
  } finally {
    Atomics.wait = wait;
  }
  if (flag === undefined) throw new Error("no synchronous proxy call was made");
  return flag;
}

/** A listed object (a proxy: each property read is a synchronous call) in a fresh Miniflare. */
async function listedObject(): Promise<{ server: MiniflareR2Server; object: Record<string, unknown> }> {
  const server = await startMiniflareR2({ buckets: ["BUCKET"] });
  const bucket = await server.bucket<R2BucketBinding>("BUCKET");
  await bucket.put("k", new TextEncoder().encode("abc"));
  const [object] = (await bucket.list()).objects;
  return { server, object: object as unknown as Record<string, unknown> };
}

const servers: MiniflareR2Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe("Atomics.wait guard (the mount-r2 tests' setup file)", () => {
  it("is installed for this project", () => {
    expect(atomicsWaitGuarded()).toBe(true);
  });

  it("keeps a wait asleep through stray notifies until its flag changes; timed waits are untouched", async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(
      `const { workerData: { flag } } = require("node:worker_threads");
       const nap = new Int32Array(new SharedArrayBuffer(4));
       for (let i = 0; i < 50; i++) { Atomics.notify(flag, 0); Atomics.wait(nap, 0, 0, 1); }
       Atomics.store(flag, 0, 1);
       Atomics.notify(flag, 0);`,
      { eval: true, workerData: { flag } },
    );
    const woke = Atomics.wait(flag, 0, 0);
    expect([woke, Atomics.load(flag, 0)]).toEqual(["ok", 1]);
    await new Promise((resolve) => worker.once("exit", resolve));
    expect(Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)).toBe("timed-out");
  });

  it("Miniflare's proxy answers every synchronous call while its flag gets stray notifies", async () => {
    const { server, object } = await listedObject();
    servers.push(server);
    const notifier = strayNotifier(proxyFlag(() => object["key"]));
    const seen: unknown[] = [];
    try {
      for (let i = 0; i < 1000; i++) seen.push(object["size"], object["key"]);
    } finally {
      const woken = await notifier.stop();
      // The stray notifies did reach calls that were waiting: the guard put them back to sleep.
      expect(woken).toBeGreaterThan(0);
    }
    expect(new Set(seen)).toEqual(new Set([3, "k"]));
    expect(seen).toHaveLength(2000);
  });

  // The control: the same calls without the guard desynchronise Miniflare's proxy for good. When
  // this fails, the installed Miniflare has the upstream fix (workers-sdk PR 15552): drop the guard.
  it("without it, one stray notify desynchronises the proxy: every later call fails (miniflare 4.20260426.0)", async () => {
    const { server, object } = await listedObject();
    servers.push(server);
    const notifier = strayNotifier(proxyFlag(() => object["key"]));
    const guarded = Atomics.wait;
    Atomics.wait = unguardedWait as typeof Atomics.wait;
    let failure: unknown;
    let calls = 0;
    try {
      for (; calls < 4000 && failure === undefined; calls++) {
        try {
          object["size"];
        } catch (error) {
          failure = error;
        }
      }
      expect(failure).toMatchObject({ name: "AssertionError", code: "ERR_ASSERTION" });
      await notifier.stop();
      // No more stray notifies, yet the proxy now reads each call's predecessor's reply.
      expect(() => object["etag"]).toThrow("false == true");
    } finally {
      Atomics.wait = guarded;
      await notifier.stop();
    }
  });
});
