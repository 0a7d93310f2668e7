import { MountError } from "@ws/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { spyMount, stored } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("writes whose retries ran out are requeued in the background", () => {
  it("lands later without a flush, with capped back-off, and each round is one layered call", async () => {
    vi.useFakeTimers();
    const m = spyMount({ mode: "read-write", writeBackMs: 10 });
    m.failures.put = 6; // two rounds of 3 attempts fail
    const ws = new Workspace({ mounts: { "/m": m }, retry: { retries: 2, minDelayMs: 1, maxDelayMs: 1 } });
    const conflicts: string[] = [];
    ws.on("conflict", (c) => conflicts.push(c.kind));
    await ws.fs.writeFile("/m/a.txt", "a");
    await vi.advanceTimersByTimeAsync(100);
    expect(m.calls.put).toBe(3);
    expect(ws.stats.writeFailures).toBe(1);
    await vi.advanceTimersByTimeAsync(1_100); // first requeue: within 0.5–1 s
    expect(m.calls.put).toBe(6);
    expect(ws.stats.writeFailures).toBe(2);
    await vi.advanceTimersByTimeAsync(2_100); // second requeue: within 1–2 s; the provider is back
    expect(m.calls.put).toBe(7);
    expect(stored(m, "a.txt")).toBe("a");
    expect(conflicts).toEqual(["write-failed", "write-failed"]);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(m.calls.put).toBe(7);
    await ws.close();
  });

  it("close() stops the requeue and rejects naming the write that never landed", async () => {
    vi.useFakeTimers();
    const m = spyMount({ mode: "read-write", writeBackMs: 10 });
    m.failures.put = 1_000;
    const ws = new Workspace({ mounts: { "/m": m }, retry: { retries: 0 } });
    await ws.fs.writeFile("/m/a.txt", "a");
    await vi.advanceTimersByTimeAsync(5_000);
    const before = m.calls.put;
    expect(before).toBeGreaterThan(1);
    await expect(ws.close()).rejects.toThrow(/\/m\/a\.txt/);
    const after = m.calls.put;
    await vi.advanceTimersByTimeAsync(600_000);
    expect(m.calls.put).toBe(after);
  });

  it("a write the provider refused for good (EROFS) waits for the next flush instead", async () => {
    vi.useFakeTimers();
    const m = spyMount({ mode: "read-write", writeBackMs: 10 });
    let refuse = true;
    m.put = async (rel, bytes) => {
      if (refuse) throw new MountError("EROFS", "bucket is read-only today");
      return m.inner.put(rel, bytes);
    };
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.writeFile("/m/a.txt", "a");
    await vi.advanceTimersByTimeAsync(300_000);
    expect(stored(m, "a.txt")).toBeUndefined();
    refuse = false;
    await ws.flushMounts();
    expect(stored(m, "a.txt")).toBe("a");
    await ws.close();
  });
});
