import { type LazyMount, MemoryMount, MountError } from "@ws/core";
import { describe, expect, it } from "vitest";
import { spyMount } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";

/** A MemoryMount whose next `fails` fetches fail transiently, counting calls and the most in flight. */
function flakyReads(files: Record<string, string>, fails: number) {
  // Reads go through `fetch` only: MemoryMount's fetchWithInfo would bypass the flaky fetch.
  const { fetchWithInfo: _unused, ...inner } = MemoryMount({ files });
  const seen = { fetch: 0, inFlight: 0, maxInFlight: 0 };
  const mount: LazyMount = {
    ...inner,
    list: () => inner.list(),
    async fetch(relPath) {
      seen.fetch++;
      seen.inFlight++;
      seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (fails > 0) {
          fails--;
          throw new MountError("EIO", "connection reset", { path: relPath, transient: true });
        }
        return await inner.fetch(relPath);
      } finally {
        seen.inFlight--;
      }
    },
  };
  return { mount, seen };
}

describe("every mount is wrapped in the provider-kit layers", () => {
  it("a transiently failing fetch is retried by the retry layer, with retry events and counters", async () => {
    const { mount, seen } = flakyReads({ "a.txt": "abc" }, 2);
    const ws = new Workspace({
      mounts: { "/m": mount },
      retry: { retries: 3, minDelayMs: 1, maxDelayMs: 2 },
    });
    const retries: Array<[string, string, number]> = [];
    ws.on("retry", (e) => retries.push([e.op, e.path, e.attempt]));
    expect(await ws.fs.readFile("/m/a.txt", "utf8")).toBe("abc");
    expect(seen.fetch).toBe(3);
    expect(retries).toEqual([
      ["fetch", "/m/a.txt", 1],
      ["fetch", "/m/a.txt", 2],
    ]);
    expect(ws.stats).toMatchObject({ fetches: 1, retries: 2, bytesIn: 3 });
    await ws.close();
  });

  it("never more calls than the configured attempts; the final error says how many were made", async () => {
    const { mount, seen } = flakyReads({ "a.txt": "abc" }, 100);
    const ws = new Workspace({
      mounts: { "/m": mount },
      retry: { retries: 2, minDelayMs: 1, maxDelayMs: 2 },
    });
    const failure = await ws.fs.readFile("/m/a.txt").catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: "EIO", root: "/m", path: "/m/a.txt" });
    expect(seen.fetch).toBe(3);
    expect(String((failure as Error).cause)).toMatch(/3 attempts/);
    await ws.close();
  });

  it("a non-transient failure is not retried", async () => {
    const ro = spyMount({ files: { "a.txt": "a" } });
    ro.failures.fetch = 1;
    const ws = new Workspace({ mounts: { "/m": ro } });
    await expect(ws.fs.readFile("/m/a.txt")).rejects.toMatchObject({ code: "EIO" });
    expect(ro.calls.fetch).toBe(1);
    expect(ws.stats.retries).toBe(0);
    await ws.close();
  });

  it("the concurrency option is one budget per mount, shared by every reader", async () => {
    const files = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}.txt`, `${i}`]));
    const { mount, seen } = flakyReads(files, 0);
    const ws = new Workspace({ mounts: { "/m": mount }, concurrency: 3 });
    await Promise.all([
      ...Object.keys(files).map((name) => ws.fs.readFile(`/m/${name}`)),
      ws.prefetch("/m", { concurrency: 12 }),
    ]);
    expect(seen.fetch).toBe(12);
    expect(seen.maxInFlight).toBe(3);
    await ws.close();
  });
});
