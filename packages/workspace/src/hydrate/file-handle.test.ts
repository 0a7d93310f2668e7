import { type LazyMount, MemoryMount } from "@ws/core";
import { describe, expect, it } from "vitest";
import { expectBytes } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";
import { FIRST_WINDOW, MAX_WINDOW, RangeReader, READ_AHEAD, STREAM_CHUNK } from "./file-handle.js";

const KiB = 1024;
const MiB = 1024 * KiB;

function bytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (i >>> 11)) & 0xff;
  return out;
}

/** A MemoryMount that records every whole fetch and every range asked of it. */
function recording(files: Record<string, Uint8Array>, withRanges = true) {
  const base = MemoryMount({ files });
  const calls = { fetches: [] as string[], ranges: [] as Array<[string, number, number]> };
  const { fetchWithInfo: _info, fetchRange: _range, ...plain } = base;
  const mount: LazyMount = {
    ...plain,
    async fetch(path: string) {
      calls.fetches.push(path);
      return base.fetch(path);
    },
    ...(withRanges
      ? {
          async fetchRange(path: string, start: number, end: number) {
            calls.ranges.push([path, start, end]);
            return base.fetchRange!(path, start, end);
          },
        }
      : {}),
  };
  return { mount, calls };
}

async function collect(stream: AsyncIterable<unknown>): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(parts));
}

describe("ws.fs.open: ranged reads of stubs", () => {
  it("reads the ranges asked for, never the whole file, and the file stays a stub", async () => {
    const big = bytes(3 * MiB + 5);
    const { mount, calls } = recording({ "big.bin": big });
    const ws = new Workspace({ mounts: { "/m": mount } });
    const handle = await ws.fs.open("/m/big.bin");
    const buffer = new Uint8Array(100);
    const { bytesRead } = await handle.read(buffer, 0, 100, 2 * MiB);
    expect(bytesRead).toBe(100);
    expect(buffer).toEqual(big.subarray(2 * MiB, 2 * MiB + 100));
    expect(calls.fetches).toEqual([]);
    // A jump away from the start: one first-size window, no read-ahead.
    expect(calls.ranges).toEqual([["big.bin", 2 * MiB, 2 * MiB + FIRST_WINDOW]]);
    // The tail: clipped at the end of the file; past the end: nothing.
    const tail = new Uint8Array(64);
    expect((await handle.read(tail, 0, 64, big.length - 10)).bytesRead).toBe(10);
    expect(tail.subarray(0, 10)).toEqual(big.subarray(big.length - 10));
    expect((await handle.read(tail, 0, 64, big.length + 100)).bytesRead).toBe(0);
    expect((await handle.stat()).size).toBe(big.length);
    await handle.close();
    await expect(handle.read(buffer)).rejects.toMatchObject({ code: "EBADF" });
    // Nothing was hydrated: a later readFile fetches the whole file once.
    await ws.fs.readFile("/m/big.bin");
    expect(calls.fetches).toEqual(["big.bin"]);
    await ws.close();
  });

  it("reads sequentially from its own position, with growing windows read ahead", async () => {
    const big = bytes(5 * MiB);
    const { mount, calls } = recording({ "big.bin": big });
    const ws = new Workspace({ mounts: { "/m": mount } });
    const handle = await ws.fs.open("/m/big.bin");
    const out = new Uint8Array(big.length);
    let at = 0;
    for (;;) {
      const { bytesRead } = await handle.read(out, at, Math.min(100_000, out.length - at));
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    expect(at).toBe(big.length);
    expectBytes(out, big);
    const sizes = calls.ranges.map(([, s, e]) => e - s);
    expect(sizes.slice(0, 4)).toEqual([FIRST_WINDOW, 2 * FIRST_WINDOW, 4 * FIRST_WINDOW, 8 * FIRST_WINDOW]);
    // Contiguous, no byte fetched twice, nothing fetched whole.
    let next = 0;
    for (const [, start, end] of calls.ranges) {
      expect(start).toBe(next);
      next = end;
    }
    expect(next).toBe(big.length);
    expect(calls.fetches).toEqual([]);
    await handle.close();
    await ws.close();
  });

  it("ws.fs.createReadStream of 64 MiB: the mount writes into a handful of reused windows; kept chunks stay right", async () => {
    const big = bytes(64 * MiB);
    const base = MemoryMount({ files: { "big.bin": big } });
    const offered = new Set<ArrayBufferLike>();
    let ranges = 0;
    const { fetchWithInfo: _info, ...rest } = base;
    const mount: LazyMount = {
      ...rest,
      async fetchRange(path: string, start: number, end: number, into?: Uint8Array) {
        ranges++;
        if (into !== undefined) offered.add(into.buffer);
        return base.fetchRange!(path, start, end, into);
      },
    };
    const ws = new Workspace({ mounts: { "/m": mount } });
    const kept: Buffer[] = [];
    for await (const chunk of ws.fs.createReadStream("/m/big.bin")) kept.push(chunk as Buffer);
    expect(ranges).toBeGreaterThan(30);
    expect(offered.size).toBeGreaterThan(0);
    expect(offered.size).toBeLessThanOrEqual(2 + READ_AHEAD);
    expectBytes(new Uint8Array(Buffer.concat(kept)), big);
    await ws.close();
  });

  it("createReadStream({ start, end }) streams exactly [start, end] (inclusive), ws.fs.createReadStream too", async () => {
    const big = bytes(2 * MiB + 3);
    const { mount, calls } = recording({ "big.bin": big });
    const ws = new Workspace({ mounts: { "/m": mount } });
    const handle = await ws.fs.open("/m/big.bin");
    expectBytes(
      await collect(handle.createReadStream({ start: 10, end: MiB + 20 })),
      big.subarray(10, MiB + 21),
    );
    await handle.close();
    expectBytes(await collect(ws.fs.createReadStream("/m/big.bin")), big);
    expectBytes(
      await collect(ws.fs.createReadStream("/m/big.bin", { start: big.length - 2 })),
      big.subarray(big.length - 2),
    );
    expect(calls.fetches).toEqual([]);
    const failed = ws.fs.createReadStream("/m/absent.bin");
    await expect(collect(failed)).rejects.toMatchObject({ code: "ENOENT" });
    await ws.close();
  });

  it("a mount without fetchRange, a hydrated file, a written file: read through memfs", async () => {
    const content = bytes(100 * KiB);
    const plain = recording({ "a.bin": content }, false);
    const ws = new Workspace({
      mounts: { "/p": plain.mount, "/w": MemoryMount({ mode: "read-write", writeBack: "manual" }) },
    });
    const handle = await ws.fs.open("/p/a.bin");
    const buffer = new Uint8Array(10);
    await handle.read(buffer, 0, 10, 50_000);
    expect(buffer).toEqual(content.subarray(50_000, 50_010));
    expect(plain.calls.fetches).toEqual(["a.bin"]);
    await handle.close();
    await ws.fs.writeFile("/w/x.txt", "hello world");
    const w = await ws.fs.open("/w/x.txt");
    expect(new TextDecoder().decode(await collect(w.createReadStream({ start: 6 })))).toBe("world");
    // The handle keeps the file it opened: deleting the path does not take it away.
    const before = await ws.fs.open("/w/x.txt");
    await ws.fs.rm("/w/x.txt");
    const got = new Uint8Array(20);
    const { bytesRead } = await before.read(got, 0, 20, 0);
    expect(new TextDecoder().decode(got.subarray(0, bytesRead))).toBe("hello world");
    await before.close();
    await w.close();
    await ws.fs.writeFile("/w/x.txt", "again");
    await expect(ws.fs.open("/w/x.txt", "w")).rejects.toMatchObject({ code: "ENOTSUP" });
    await expect(ws.fs.open("/w")).rejects.toMatchObject({ code: "EISDIR" });
    await expect(ws.fs.open("/w/none")).rejects.toMatchObject({ code: "ENOENT" });
    await expect(ws.fs.open("/w/x.txt").then((h) => h.read(new Uint8Array(4), 0, 8))).rejects.toMatchObject({
      code: "EINVAL",
    });
    await ws.close();
  });
});

describe("RangeReader", () => {
  it("holds at most 1 + READ_AHEAD windows, capped at MAX_WINDOW, whatever the size", async () => {
    const size = 200 * MiB;
    let inFlight = 0;
    let peak = 0;
    const reader = new RangeReader(size, async (start, end) => {
      inFlight++;
      peak = Math.max(peak, reader.windows.length);
      await new Promise((r) => setTimeout(r, 0));
      inFlight--;
      return new Uint8Array(end - start);
    });
    let total = 0;
    let biggest = 0;
    for await (const chunk of reader.chunks(0, size)) {
      total += chunk.length;
      biggest = Math.max(biggest, chunk.length);
    }
    expect(total).toBe(size);
    expect(biggest).toBe(MAX_WINDOW);
    expect(peak).toBeLessThanOrEqual(1 + READ_AHEAD);
    expect(inFlight).toBe(0);
  });

  it("reuses its window buffers: a 64 MiB stream and 64 MiB of reads allocate a handful, not one per window", async () => {
    const size = 64 * MiB + 123;
    const big = bytes(size);
    const offered = new Set<ArrayBufferLike>();
    let fetches = 0;
    // A provider that writes into the buffer it is offered, as HttpTree does.
    const fetch = async (start: number, end: number, into?: Uint8Array): Promise<Uint8Array> => {
      fetches++;
      if (into === undefined) return big.slice(start, end);
      offered.add(into.buffer);
      await new Promise((r) => setTimeout(r, 0));
      into.set(big.subarray(start, end));
      return into.subarray(0, end - start);
    };
    const streamed = new RangeReader(size, fetch);
    // The consumer keeps every chunk (a pipe into a slow socket does): the bytes must stay right
    // after the windows they came from were reused.
    const kept: Uint8Array[] = [];
    for await (const chunk of streamed.chunks(0, size)) kept.push(chunk);
    expect(fetches).toBeGreaterThan(30);
    expect(streamed.buffersAllocated).toBeLessThanOrEqual(2 + READ_AHEAD);
    expect(offered.size).toBe(streamed.buffersAllocated);
    expect(Math.max(...kept.map((c) => c.length))).toBe(STREAM_CHUNK);
    expectBytes(new Uint8Array(Buffer.concat(kept)), big);

    const read = new RangeReader(size, fetch);
    const out = new Uint8Array(size);
    for (let at = 0; at < size; ) at += await read.read(out, at, Math.min(MiB, size - at), at);
    expect(read.buffersAllocated).toBeLessThanOrEqual(2 + READ_AHEAD);
    expectBytes(out, big);
  });

  it("a provider that ignores the offered buffer: its fresh arrays are streamed as they are", async () => {
    const big = bytes(5 * MiB);
    const reader = new RangeReader(big.length, async (start, end) => big.slice(start, end));
    const chunks: Uint8Array[] = [];
    for await (const chunk of reader.chunks(0, big.length)) chunks.push(chunk);
    // One chunk per window (no copy): 256 KiB, 512 KiB, 1 MiB, 2 MiB, the rest.
    expect(chunks.map((c) => c.length)).toEqual([
      FIRST_WINDOW,
      2 * FIRST_WINDOW,
      MiB,
      MAX_WINDOW,
      MiB + 256 * KiB,
    ]);
    expectBytes(new Uint8Array(Buffer.concat(chunks)), big);
  });

  it("a window dropped while its fetch is in flight is not reused until that fetch settles", async () => {
    const size = 8 * MiB;
    const big = bytes(size);
    const pending: Array<() => void> = [];
    const writing = new Set<ArrayBufferLike>();
    let overlapped = false;
    const reader = new RangeReader(size, async (start, end, into) => {
      if (into === undefined) return big.slice(start, end);
      if (writing.has(into.buffer)) overlapped = true;
      writing.add(into.buffer);
      // The first fetches hang until released; the jump below drops their windows meanwhile.
      if (start < 4 * MiB) await new Promise<void>((r) => pending.push(r));
      into.set(big.subarray(start, end));
      writing.delete(into.buffer);
      return into.subarray(0, end - start);
    });
    const first = reader.read(new Uint8Array(16), 0, 16, 0);
    await new Promise((r) => setTimeout(r, 0));
    const far = new Uint8Array(MiB);
    const jumped = reader.read(far, 0, far.length, 6 * MiB);
    await new Promise((r) => setTimeout(r, 0));
    for (const release of pending.splice(0)) release();
    await first;
    await jumped;
    expect(overlapped).toBe(false);
    expect(reader.buffersAllocated).toBeGreaterThan(1);
    expectBytes(far, big.subarray(6 * MiB, 7 * MiB));
  });

  it("a failed window rejects the read that needs it, and a later read retries", async () => {
    let fail = true;
    const reader = new RangeReader(1000, async (start, end) => {
      if (fail) throw new Error("boom");
      return new Uint8Array(end - start).fill(7);
    });
    const buffer = new Uint8Array(10);
    await expect(reader.read(buffer, 0, 10, 500)).rejects.toThrow("boom");
    fail = false;
    await expect(reader.read(buffer, 0, 10, 900)).resolves.toBe(10);
    expect(buffer[0]).toBe(7);
  });
});
