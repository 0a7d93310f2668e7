import { describe, expect, it } from "vitest";
import { defineLazyMount } from "./define-mount.js";
import { MountError } from "./errors.js";
import { MemoryMount } from "./memory-mount.js";
import { bytesSource, checkPutSource, readSource, sourceChunks } from "./put-source.js";
import type { PutSource } from "./types.js";

/** A source of `size` bytes, data `0xab` in `extents`, that records every range read. */
function recorded(
  size: number,
  extents?: Array<[number, number]>,
): PutSource & { reads: Array<[number, number]> } {
  const reads: Array<[number, number]> = [];
  return {
    size,
    ...(extents ? { extents } : {}),
    reads,
    async read(start, end) {
      reads.push([start, end]);
      return new Uint8Array(end - start).fill(0xab);
    },
  };
}

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (error) {
    return MountError.isInstance(error) ? error.code : String(error);
  }
  return "resolved";
};

describe("PutSource helpers", () => {
  it("sourceChunks reads data in chunks and never reads holes", async () => {
    const source = recorded(10, [
      [2, 5],
      [8, 9],
    ]);
    const out: number[] = [];
    for await (const chunk of sourceChunks(source, 2)) out.push(...chunk);
    expect(out).toEqual([0, 0, 0xab, 0xab, 0xab, 0, 0, 0, 0xab, 0]);
    expect(source.reads).toEqual([
      [2, 4],
      [4, 5],
      [8, 9],
    ]);
    expect([...(await readSource(bytesSource(new Uint8Array([1, 2, 3]))))]).toEqual([1, 2, 3]);
    expect((await readSource(recorded(0))).length).toBe(0);
  });

  it("sourceChunks rejects a source that gives fewer bytes than asked (the file changed)", async () => {
    const short: PutSource = { size: 4, read: async () => new Uint8Array(1) };
    await expect(readSource(short)).rejects.toMatchObject({ code: "EINVAL" });
  });

  it("checkPutSource refuses bad sizes and extents", () => {
    const bad = (source: unknown): string => {
      try {
        checkPutSource(source as PutSource, "f");
        return "ok";
      } catch (error) {
        return (error as MountError).code;
      }
    };
    expect(bad(recorded(4, [[0, 4]]))).toBe("ok");
    expect(bad({ size: 4 })).toBe("EINVAL");
    expect(bad(recorded(-1))).toBe("EINVAL");
    expect(bad(recorded(1.5))).toBe("EINVAL");
    expect(bad(recorded(4, [[0, 5]]))).toBe("EINVAL");
    expect(
      bad(
        recorded(9, [
          [4, 6],
          [2, 3],
        ]),
      ),
    ).toBe("EINVAL");
  });
});

describe("putStream through defineLazyMount", () => {
  it("maps the key under the prefix, checks like put, refuses on a read-only mount", async () => {
    const calls: string[] = [];
    const define = (mode: "read-only" | "read-write") =>
      defineLazyMount({
        kind: "t",
        options: { mode },
        prefix: "p",
        listPages: async function* () {},
        fetch: async () => new Uint8Array(),
        put: async () => undefined,
        async putStream(key, source, options) {
          calls.push(`${key} ${source.size} ${JSON.stringify(options)}`);
          return { etag: "e" };
        },
      });
    const rw = define("read-write");
    expect(await rw.putStream!("a/b", recorded(3), { mode: 0o600 })).toEqual({ etag: "e" });
    expect(calls).toEqual(['p/a/b 3 {"mode":384}']);
    expect(await codeOf(rw.putStream!("x", recorded(3, [[1, 9]])))).toBe("EINVAL");
    expect(await codeOf(rw.putStream!("x", recorded(3), { ifNoneMatch: "etag" as never }))).toBe("EINVAL");
    expect(await codeOf(define("read-only").putStream!("x", recorded(3)))).toBe("EROFS");
    expect(calls.length).toBe(1);
  });

  it("a mount defined without putStream has none", () => {
    const mount = defineLazyMount({
      kind: "t",
      listPages: async function* () {},
      fetch: async () => new Uint8Array(),
    });
    expect(mount.putStream).toBeUndefined();
  });

  it("MemoryMount stores a streamed file with its metadata and checks preconditions", async () => {
    const mount = MemoryMount({ mode: "read-write" });
    const source = recorded(6, [[1, 3]]);
    const { etag } = (await mount.putStream!("f", source, { mtime: 5000 })) as { etag?: string };
    expect([...mount.store.get("f")!.bytes]).toEqual([0, 0xab, 0xab, 0, 0, 0]);
    expect((await mount.fetchWithInfo!("f")).mtime).toBe(5000);
    expect(await codeOf(mount.putStream!("f", source, { ifMatch: "stale" }))).toBe("ESTALE");
    await mount.putStream!("f", bytesSource(new Uint8Array([7])), { ifMatch: etag! });
    expect([...mount.store.get("f")!.bytes]).toEqual([7]);
  });
});
