import { defineLazyMount, type LazyMount, MemoryMount, MountError } from "@ws/core";
import { describe, expect, it } from "vitest";
import { faultLayer } from "../test/fault-layer.js";
import { type RetryAttempt, retryLayer } from "./retry-layer.js";

const ctx = { root: "/m" };
const noSleep = { sleep: async () => {}, random: () => 0.5 };

async function errorOf(promise: Promise<unknown>): Promise<MountError> {
  try {
    await promise;
  } catch (error) {
    if (MountError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a MountError");
}

function faulty(rules: Parameters<typeof faultLayer>[0], mode: "read-only" | "read-write" = "read-write") {
  const faults = faultLayer(rules);
  const mount = faults(MemoryMount({ mode, files: { "a.txt": "A" } }), ctx) as LazyMount;
  return { faults, mount };
}

describe("retryLayer", () => {
  it("retries transient failures of reads and writes until they succeed, reporting each attempt", async () => {
    const { faults, mount } = faulty([
      { op: "fetch", calls: [1, 2], error: { code: "EIO", transient: true } },
      { op: "put", calls: [1], error: { code: "EAGAIN", transient: true, retryAfterMs: 1234 } },
    ]);
    const attempts: RetryAttempt[] = [];
    const sleeps: number[] = [];
    const layered = retryLayer({
      attempts: 3,
      baseMs: 100,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      onAttempt: (a) => attempts.push(a),
    })(mount, ctx) as LazyMount;
    expect(new TextDecoder().decode(await layered.fetch("a.txt"))).toBe("A");
    await layered.put?.("b.txt", new Uint8Array([1]));
    expect(faults.calls).toMatchObject({ fetch: 3, put: 2 });
    expect(attempts.map((a) => `${a.op} ${a.path} #${a.attempt} ${a.error.code}`)).toEqual([
      "fetch a.txt #1 EIO",
      "fetch a.txt #2 EIO",
      "put b.txt #1 EAGAIN",
    ]);
    expect(attempts[0]?.root).toBe("/m");
    // Full jitter (0.5 of 100, then of 200), then the server's Retry-After.
    expect(sleeps).toEqual([50, 100, 1234]);
  });

  it("gives up after `attempts` with a persistent error saying how many attempts were made", async () => {
    const { faults, mount } = faulty([
      { op: "put", error: { code: "EIO", transient: true, message: "reset" } },
    ]);
    const layered = retryLayer({ attempts: 4, ...noSleep })(mount, ctx) as LazyMount;
    const error = await errorOf(layered.put?.("x", new Uint8Array()) ?? Promise.resolve());
    expect(faults.calls.put).toBe(4);
    expect(error).toMatchObject({ code: "EIO", transient: false, attempts: 4 });
    expect(error.message).toBe("EIO: reset (gave up after 4 attempts)");
    // An outer retry layer does not multiply the attempts.
    const outer = retryLayer({ attempts: 4, ...noSleep })(layered, ctx) as LazyMount;
    await errorOf(outer.put?.("x", new Uint8Array()) ?? Promise.resolve());
    expect(faults.calls.put).toBe(8);
  });

  it("does not retry persistent errors or non-MountErrors", async () => {
    const { faults, mount } = faulty([
      { op: "fetch", path: "a.txt", error: { code: "EACCES" } },
      { op: "fetch", path: "b", error: new Error("plain") },
    ]);
    const layered = retryLayer({ attempts: 5, ...noSleep })(mount, ctx) as LazyMount;
    expect((await errorOf(layered.fetch("a.txt"))).code).toBe("EACCES");
    await expect(layered.fetch("b")).rejects.toThrow("plain");
    expect(faults.calls.fetch).toBe(2);
    expect((await errorOf(layered.fetch("missing"))).code).toBe("ENOENT");
  });

  it("leaves a mount whose client retries by itself alone", async () => {
    let calls = 0;
    const mount = defineLazyMount({
      kind: "sdk",
      retries: "client",
      async *listPages() {},
      async fetch() {
        calls++;
        throw new MountError("EIO", "after the SDK's own retries", { transient: true });
      },
    });
    const layered = retryLayer({ attempts: 4, ...noSleep })(mount, ctx);
    expect(layered).toBe(mount);
    await errorOf((layered as LazyMount).fetch("x"));
    expect(calls).toBe(1);
  });

  it("does not wrap a mount that already has a retry layer, but hears its attempts", async () => {
    const { faults, mount } = faulty([{ op: "put", error: { code: "EIO", transient: true } }]);
    // A provider that retries itself through the kit (as S3Bucket does, with its maxAttempts).
    const selfRetried = retryLayer({ attempts: 3, ...noSleep })(mount, { root: "" });
    const heard: RetryAttempt[] = [];
    const outer = retryLayer({ attempts: 6, ...noSleep, onAttempt: (a) => heard.push(a) })(selfRetried, ctx);
    expect(outer).toBe(selfRetried);
    const error = await errorOf((outer as LazyMount).put?.("x", new Uint8Array()) ?? Promise.resolve());
    // 3 requests, not 3 × 6: the 18-request multiplication cannot happen.
    expect(faults.calls.put).toBe(3);
    expect(error.attempts).toBe(3);
    expect(heard.map((a) => [a.root, a.attempt])).toEqual([
      ["/m", 1],
      ["/m", 2],
    ]);
  });

  it("refuses nonsense attempts", () => {
    expect(() => retryLayer({ attempts: 0 })).toThrow(/attempts/);
  });
});
