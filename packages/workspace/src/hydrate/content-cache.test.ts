import { type LazyMount, MemoryMount, MemoryStore, MountError } from "@ws/core";
import { describe, expect, it } from "vitest";
import { expectBytes } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";

const KiB = 1024;

/** Deterministic bytes (xorshift), different per seed. */
function bytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

describe("content budget (cache.maxBytes)", () => {
  it("rejects a budget that is not a positive integer", () => {
    for (const maxBytes of [0, -1, 1.5, Number.NaN, "1" as unknown as number]) {
      expect(() => new Workspace({ cache: { maxBytes } }), String(maxBytes)).toThrow(/cache\.maxBytes/);
    }
    expect(new Workspace({ cache: {} }).cache.maxBytes).toBeUndefined();
  });

  it("without a budget nothing is evicted and nothing is tracked (today's behaviour)", async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 10; i++) files[`f${i}.bin`] = bytes(10 * KiB, i);
    const ws = new Workspace({ mounts: { "/m": MemoryMount({ files }) } });
    for (let i = 0; i < 10; i++) await ws.fs.readFile(`/m/f${i}.bin`);
    for (let i = 0; i < 10; i++) await ws.fs.readFile(`/m/f${i}.bin`);
    expect(ws.stats.fetches).toBe(10);
    expect(ws.cache).toEqual({
      maxBytes: undefined,
      residentBytes: 0,
      files: 0,
      evictions: 0,
      evictedBytes: 0,
    });
    await ws.close();
  });

  it("evicts the least recently used clean file, counts it, tells it, and fetches it again when read", async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 4; i++) files[`f${i}.bin`] = bytes(10 * KiB, i);
    const ws = new Workspace({ mounts: { "/m": MemoryMount({ files }) }, cache: { maxBytes: 25 * KiB } });
    const evicted: string[] = [];
    ws.on("evict", (e) => evicted.push(e.path));
    await ws.fs.readFile("/m/f0.bin");
    await ws.fs.readFile("/m/f1.bin");
    await ws.fs.readFile("/m/f0.bin"); // f0 is now the most recent: f1 goes first
    await ws.fs.readFile("/m/f2.bin");
    expect(evicted).toEqual(["/m/f1.bin"]);
    expect(ws.cache).toMatchObject({
      residentBytes: 20 * KiB,
      files: 2,
      evictions: 1,
      evictedBytes: 10 * KiB,
    });
    expect(ws.stats.evictions).toBe(1);
    // An evicted file is a stub again: stat answers from the listing, a read fetches it once more.
    expect((await ws.fs.stat("/m/f1.bin")).size).toBe(10 * KiB);
    expect(await ws.fs.readdir("/m")).toEqual(["f0.bin", "f1.bin", "f2.bin", "f3.bin"]);
    const fetches = ws.stats.fetches;
    expectBytes(new Uint8Array(await ws.fs.readFile("/m/f1.bin")), files["f1.bin"]!);
    expect(ws.stats.fetches).toBe(fetches + 1);
    await ws.close();
  });

  it("never evicts a file with a local change, pending or acknowledged", async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 6; i++) files[`f${i}.bin`] = bytes(10 * KiB, i);
    const mount = MemoryMount({ files, mode: "read-write", writeBack: "manual" });
    const ws = new Workspace({ mounts: { "/m": mount }, cache: { maxBytes: 15 * KiB } });
    const evicted: string[] = [];
    ws.on("evict", (e) => evicted.push(e.path));
    await ws.fs.appendFile("/m/f0.bin", "local"); // hydrated, then changed: pending
    for (let i = 1; i < 6; i++) await ws.fs.readFile(`/m/f${i}.bin`);
    expect(evicted).not.toContain("/m/f0.bin");
    await ws.flushMounts();
    for (let i = 1; i < 6; i++) await ws.fs.readFile(`/m/f${i}.bin`);
    expect(evicted).not.toContain("/m/f0.bin");
    expect(evicted.length).toBeGreaterThan(0);
    expect(new TextDecoder().decode((await ws.fs.readFile("/m/f0.bin")).subarray(-5))).toBe("local");
    await ws.close();
  });

  it("keeps a file an operation is using: concurrent reads each get their bytes", async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 16; i++) files[`f${i}.bin`] = bytes(8 * KiB, i);
    const ws = new Workspace({ mounts: { "/m": MemoryMount({ files }) }, cache: { maxBytes: 8 * KiB } });
    for (let round = 0; round < 3; round++) {
      const reads = await Promise.all(Object.keys(files).map((name) => ws.fs.readFile(`/m/${name}`)));
      reads.forEach((got, i) => {
        expectBytes(new Uint8Array(got), files[`f${i}.bin`]!, `f${i}`);
      });
      // After the calls settle, what stays is within the budget.
      expect(ws.cache.residentBytes).toBeLessThanOrEqual(8 * KiB);
    }
    // appendFile hydrates then appends: an eviction in between would lose the old bytes.
    const rw = new Workspace({
      mounts: { "/m": MemoryMount({ files, mode: "read-write", writeBack: "manual" }) },
      cache: { maxBytes: 8 * KiB },
    });
    await Promise.all(Object.keys(files).map((name) => rw.fs.appendFile(`/m/${name}`, "+")));
    for (const [name, content] of Object.entries(files)) {
      const got = new Uint8Array(await rw.fs.readFile(`/m/${name}`));
      expect(got.length, name).toBe(content.length + 1);
      expectBytes(got.subarray(0, content.length), content, name);
    }
    await rw.close();
    await ws.close();
  });

  it("prefetch of more than the budget keeps the most recent files, within the budget", async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 40; i++) files[`d${i % 4}/f${i}.bin`] = bytes(4 * KiB, i);
    const ws = new Workspace({ mounts: { "/m": MemoryMount({ files }) }, cache: { maxBytes: 20 * KiB } });
    const result = await ws.prefetch("/m");
    expect(result.files).toBe(40);
    expect(ws.cache.residentBytes).toBeLessThanOrEqual(20 * KiB);
    expect(ws.stats.evictions).toBeGreaterThanOrEqual(35);
    await ws.close();
  });

  it("exec sees hydrated files and pulls changes back: no eviction while it runs", async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 6; i++) files[`f${i}.txt`] = new TextEncoder().encode(`file ${i}\n`.repeat(200));
    const ws = new Workspace({
      mounts: { "/m": MemoryMount({ files, mode: "read-write", writeBack: "manual" }) },
      cache: { maxBytes: 2000 },
    });
    const run = await ws.exec("sh", ["-c", "cat m/f*.txt | wc -l; echo more >> m/f0.txt"], {
      cwd: "/",
      hydrate: true,
    });
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toBe("1200");
    expect(run.changes.modified).toEqual(["/m/f0.txt"]);
    expect((await ws.fs.readFile("/m/f0.txt", "utf8")).endsWith("more\n")).toBe(true);
    expect(ws.cache.residentBytes).toBeLessThanOrEqual(2000 + 1600);
    await ws.close();
  });

  it("a second exec after evictions: the lasting exec directory and the evicted stubs agree", async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 6; i++) files[`f${i}.txt`] = new TextEncoder().encode(`file ${i}\n`.repeat(200));
    const ws = new Workspace({
      mounts: { "/m": MemoryMount({ files, mode: "read-write", writeBack: "manual" }) },
      cache: { maxBytes: 2000 },
    });
    const first = await ws.exec("sh", ["-c", "cat m/f*.txt | wc -l"], { cwd: "/", hydrate: true });
    expect(first.stdout.trim()).toBe("1200");
    expect(ws.stats.evictions).toBeGreaterThan(0);
    const second = await ws.exec("sh", ["-c", "cat m/f*.txt | wc -l; echo two >> m/f5.txt"], {
      cwd: "/",
      hydrate: true,
    });
    expect(second.exitCode).toBe(0);
    expect(second.stdout.trim()).toBe("1200");
    expect(second.changes.conflicts).toEqual([]);
    expect(second.changes.modified).toEqual(["/m/f5.txt"]);
    expect(await ws.fs.readdir("/m")).toEqual(["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt", "f5.txt"]);
    expect((await ws.fs.readFile("/m/f5.txt", "utf8")).endsWith("two\n")).toBe(true);
    expect(await ws.fs.readFile("/m/f0.txt", "utf8")).toBe("file 0\n".repeat(200));
    await ws.close();
  });

  it("a stub larger than the budget is read through: one buffer, the provider's own, never kept", async () => {
    const big = bytes(300 * KiB, 7);
    const base = MemoryMount({ files: { "big.bin": big, "small.bin": bytes(KiB, 8) } });
    const returned: Uint8Array[] = [];
    const { fetchWithInfo: _info, ...plain } = base;
    const spy: LazyMount = {
      ...plain,
      async fetch(path: string) {
        const out = await base.fetch(path);
        returned.push(out);
        return out;
      },
    };
    const ws = new Workspace({ mounts: { "/m": spy }, cache: { maxBytes: 100 * KiB } });
    const got = await ws.fs.readFile("/m/big.bin");
    expect(returned).toHaveLength(1);
    // The very array the provider returned: not copied on the way to the caller.
    expect(got.buffer).toBe(returned[0]!.buffer);
    expect(got.byteLength).toBe(big.length);
    expectBytes(new Uint8Array(got), big);
    expect(ws.cache.residentBytes).toBe(0);
    // Not kept: a second read fetches again (and the caller may change its buffer freely).
    got.fill(0);
    expectBytes(new Uint8Array(await ws.fs.readFile("/m/big.bin")), big);
    expect(returned).toHaveLength(2);
    await ws.close();
  });

  /** `base` without `fetchWithInfo`, its every `fetch` path pushed onto `log`. */
  function fetchLogged(base: ReturnType<typeof MemoryMount>, log: string[]): LazyMount {
    const { fetchWithInfo: _info, ...plain } = base;
    return {
      ...plain,
      async fetch(path: string) {
        log.push(path);
        return base.fetch(path);
      },
    };
  }

  it("without a budget, a stub over cache.maxFileBytes (default 64 MiB) is read through; smaller ones are kept", async () => {
    const big = bytes(64 * 1024 * KiB + 1, 5);
    const fetched: string[] = [];
    const spy = fetchLogged(MemoryMount({ files: { "big.bin": big, "small.bin": bytes(KiB, 6) } }), fetched);
    const ws = new Workspace({ mounts: { "/m": spy } });
    const got = await ws.fs.readFile("/m/big.bin");
    expect(got.byteLength).toBe(big.length);
    got.fill(0); // the caller's own buffer: changing it changes nothing stored
    expectBytes(new Uint8Array(await ws.fs.readFile("/m/big.bin")), big);
    await ws.fs.readFile("/m/small.bin");
    await ws.fs.readFile("/m/small.bin");
    expect(fetched).toEqual(["big.bin", "big.bin", "small.bin"]);
    await ws.close();
  });

  it("cache.maxFileBytes: Infinity keeps every file read; a bad value is EINVAL", async () => {
    const fetched: string[] = [];
    const spy = fetchLogged(MemoryMount({ files: { "a.bin": bytes(300 * KiB, 1) } }), fetched);
    const small = new Workspace({ mounts: { "/m": spy }, cache: { maxFileBytes: 100 * KiB } });
    await small.fs.readFile("/m/a.bin");
    await small.fs.readFile("/m/a.bin");
    expect(fetched).toEqual(["a.bin", "a.bin"]);
    await small.close();
    fetched.length = 0;
    const keep = new Workspace({ mounts: { "/m": spy }, cache: { maxFileBytes: Number.POSITIVE_INFINITY } });
    await keep.fs.readFile("/m/a.bin");
    await keep.fs.readFile("/m/a.bin");
    expect(fetched).toEqual(["a.bin"]);
    await keep.close();
    for (const bad of [0, -1, 1.5, "64M", Number.NaN]) {
      expect(() => new Workspace({ mounts: { "/m": spy }, cache: { maxFileBytes: bad as number } })).toThrow(
        expect.objectContaining({ code: "EINVAL" }),
      );
    }
  });

  it("refresh after evictions: an evicted file changed upstream reads the new version, the rest stays", async () => {
    const store = new MemoryStore({ "a.bin": bytes(10 * KiB, 1), "b.bin": bytes(10 * KiB, 2) });
    const ws = new Workspace({ mounts: { "/m": MemoryMount({ store }) }, cache: { maxBytes: 15 * KiB } });
    await ws.fs.readFile("/m/a.bin");
    await ws.fs.readFile("/m/b.bin"); // a.bin is evicted
    expect(ws.stats.evictions).toBe(1);
    const changed = bytes(12 * KiB, 3);
    store.put("a.bin", changed);
    store.put("b.bin", bytes(10 * KiB, 4));
    const result = await ws.refreshMount("/m");
    expect(result.changed.sort()).toEqual(["/m/a.bin", "/m/b.bin"]);
    expect(result.conflicts).toEqual([]);
    expectBytes(new Uint8Array(await ws.fs.readFile("/m/a.bin")), changed);
    expect((await ws.fs.stat("/m/a.bin")).size).toBe(12 * KiB);
    expectBytes(new Uint8Array(await ws.fs.readFile("/m/b.bin")), bytes(10 * KiB, 4));
    await ws.close();
  });

  it("a failed fetch leaves the stub and a budget changes nothing about errors", async () => {
    const base = MemoryMount({ files: { "a.bin": bytes(KiB, 1) } });
    const { fetchWithInfo: _info, ...plain } = base;
    const failing: LazyMount = {
      ...plain,
      async fetch() {
        throw new MountError("EACCES", "denied");
      },
    };
    const ws = new Workspace({ mounts: { "/m": failing }, cache: { maxBytes: 10 } });
    await expect(ws.fs.readFile("/m/a.bin")).rejects.toMatchObject({ code: "EACCES" });
    expect((await ws.fs.stat("/m/a.bin")).size).toBe(KiB);
    await ws.close();
  });
});
