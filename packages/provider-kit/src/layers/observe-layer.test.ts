import { type LazyMount, MemoryMount, MountError } from "@ws/core";
import { describe, expect, it } from "vitest";
import { faultLayer } from "../test/fault-layer.js";
import { type ObserveEvent, observeLayer } from "./observe-layer.js";
import { retryLayer } from "./retry-layer.js";

const ctx = { root: "/m" };

describe("observeLayer", () => {
  it("emits one event per call with op, path, bytes, entries, ms and error", async () => {
    const events: ObserveEvent[] = [];
    const mount = observeLayer((e) => events.push(e))(
      MemoryMount({ mode: "read-write", files: { "a.txt": "hello" } }),
      ctx,
    ) as LazyMount;
    await mount.list();
    await mount.fetch("a.txt");
    await mount.put?.("b.txt", new Uint8Array(3));
    await mount.delete?.("b.txt");
    await mount.fetch("nope").catch(() => {});
    expect(events.map(({ ms: _ms, error, ...rest }) => ({ ...rest, error: error?.code }))).toEqual([
      { root: "/m", op: "list", path: "", bytes: 0, entries: 1, attempt: 1, error: undefined },
      { root: "/m", op: "fetch", path: "a.txt", bytes: 5, attempt: 1, error: undefined },
      { root: "/m", op: "put", path: "b.txt", bytes: 3, attempt: 1, error: undefined },
      { root: "/m", op: "delete", path: "b.txt", bytes: 0, attempt: 1, error: undefined },
      { root: "/m", op: "fetch", path: "nope", bytes: 0, attempt: 1, error: "ENOENT" },
    ]);
    expect(events.every((e) => e.ms >= 0)).toBe(true);
  });

  it("reports how many attempts the retry layer inside made", async () => {
    const events: ObserveEvent[] = [];
    const faults = faultLayer([{ op: "fetch", calls: [1, 2], error: { code: "EIO", transient: true } }]);
    const inner = retryLayer({ attempts: 5, sleep: async () => {} })(
      faults(MemoryMount({ files: { a: "1" } }), ctx),
      ctx,
    );
    const mount = observeLayer((e) => events.push(e))(inner, ctx) as LazyMount;
    await mount.fetch("a");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ op: "fetch", attempt: 3, bytes: 1 });
  });

  it("a throwing sink changes nothing", async () => {
    const mount = observeLayer(() => {
      throw new Error("sink broke");
    })(MemoryMount({ files: { a: "1" } }), ctx) as LazyMount;
    expect(await mount.fetch("a")).toEqual(new Uint8Array([49]));
    const error = await mount.fetch("b").catch((e: unknown) => e);
    expect(MountError.hasCode(error, "ENOENT")).toBe(true);
  });
});
