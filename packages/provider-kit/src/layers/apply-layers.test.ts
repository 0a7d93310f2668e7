import { type LazyMount, MemoryMount, type MemoryMountInstance, type MountError } from "@ws/core";
import { describe, expect, it } from "vitest";
import { faultLayer } from "../test/fault-layer.js";
import { applyLayers } from "./apply-layers.js";
import type { ObserveEvent } from "./observe-layer.js";
import { retryLayer } from "./retry-layer.js";
import { interceptMount } from "./wrap-mount.js";

const ctx = { root: "/m" };

describe("applyLayers", () => {
  it("keeps the mount's members (kind, options, extras) and its behaviour", async () => {
    const inner = MemoryMount({ mode: "read-write", files: { a: "1" }, maxBytes: 100 });
    const mount = applyLayers(inner, { root: "/m" }) as MemoryMountInstance;
    expect(mount).not.toBe(inner);
    expect(mount).toMatchObject({
      kind: "memory",
      strategy: "lazy",
      writable: true,
      options: { maxBytes: 100 },
    });
    expect(mount.store).toBe(inner.store);
    await mount.put("b", new Uint8Array([2]));
    expect(inner.store.has("b")).toBe(true);
  });

  it("orders the layers observe → read-only → retry → concurrency → redact → mount", async () => {
    const order: string[] = [];
    const faults = faultLayer([
      { op: "fetch", calls: [1], error: { code: "EIO", transient: true, message: "blip with s3cr3t-key" } },
    ]);
    const spy = interceptMount(
      faults(MemoryMount({ files: { a: "1" } }), { root: "/m" }),
      (op, path, call) => {
        order.push(`${op} ${path}`);
        return call();
      },
    );
    const events: ObserveEvent[] = [];
    const mount = applyLayers(spy, {
      root: "/m",
      retry: { attempts: 3, sleep: async () => {} },
      concurrency: 1,
      secrets: ["s3cr3t-key"],
      observe: (e) => events.push(e),
    }) as LazyMount;
    await mount.fetch("a");
    // Read-only sits outside retry and the mount: a refused write costs no attempt.
    const refused = (await mount.put?.("x", new Uint8Array()).catch((e: unknown) => e)) as MountError;
    expect(refused.code).toBe("EROFS");
    expect(refused.root).toBe("/m");
    expect(order).toEqual(["fetch a", "fetch a"]);
    // One retry event (scrubbed before anyone saw it), then the final event of each call.
    expect(events.map((e) => [e.op, e.attempt, e.error?.code, e.retryInMs !== undefined])).toEqual([
      ["fetch", 1, "EIO", true],
      ["fetch", 2, undefined, false],
      ["put", 1, "EROFS", false],
    ]);
    expect(events[0]?.error?.message).toBe("EIO: blip with [redacted]");
  });

  it("reports the attempts of a provider that retries itself through the kit, without retrying again", async () => {
    const faults = faultLayer([{ op: "fetch", calls: [1, 2], error: { code: "EIO", transient: true } }]);
    const provider = retryLayer({ attempts: 3, sleep: async () => {} })(
      faults(MemoryMount({ files: { a: "1" } }), ctx),
      {
        root: "",
      },
    );
    const events: ObserveEvent[] = [];
    const mount = applyLayers(provider, {
      root: "/m",
      retry: { attempts: 5, sleep: async () => {} },
      concurrency: 2,
      observe: (e) => events.push(e),
    }) as LazyMount;
    await mount.fetch("a");
    expect(faults.calls.fetch).toBe(3);
    expect(events.map((e) => [e.root, e.op, e.attempt, e.retryInMs !== undefined])).toEqual([
      ["/m", "fetch", 1, true],
      ["/m", "fetch", 2, true],
      ["/m", "fetch", 3, false],
    ]);
  });

  it("can leave retries out", async () => {
    const faults = faultLayer([{ op: "list", calls: [1], error: { code: "EIO", transient: true } }]);
    const mount = applyLayers(faults(MemoryMount(), { root: "/m" }), {
      root: "/m",
      retry: false,
    }) as LazyMount;
    const error = (await mount.list().catch((e: unknown) => e)) as MountError;
    expect(error).toMatchObject({ code: "EIO", transient: true, root: "/m" });
  });
});
