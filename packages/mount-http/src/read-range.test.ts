import * as diagnostics from "node:diagnostics_channel";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MountError } from "@ws/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpServerName } from "../test/global-setup.js";
import { type HostileServer, startHostileServer } from "../test/hostile-server.js";
import { folderUrl, serverInfo, serverOptions } from "../test/http-harness.js";
import { HttpTree, type HttpTreeMount } from "./http-tree.js";

let server: HostileServer;
beforeAll(async () => {
  server = await startHostileServer();
});
afterAll(async () => {
  await server?.stop();
});

async function errorOf(promise: Promise<unknown>): Promise<MountError> {
  try {
    await promise;
  } catch (error) {
    if (MountError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

/** Byte i of a test file: no two neighbours alike, so an off-by-one range cannot pass. */
function pattern(size: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) % 251;
  return bytes;
}

const SIZE = 3000;
const DATA = pattern(SIZE, 7);
// Over FAST_RANGE (256 KiB): ranges this long take the large-read fast path on plain http.
const BIG_SIZE = 3 * 1024 * 1024 + 17;
const BIG = pattern(BIG_SIZE, 3);

// nginx and rclone honour Range (206); python's http.server ignores it (200 with the whole file),
// so there every range is cut from the full body: the same bytes either way.
const SERVERS: readonly HttpServerName[] = [
  "nginx-json",
  "nginx-html",
  "rclone-http",
  "rclone-webdav",
  "python-http",
];

describe.each(SERVERS)("fetchRange on %s", (name) => {
  let folder: string;
  let dir: string;
  beforeAll(async () => {
    const info = serverInfo(name);
    folder = `range-${name}-${Date.now()}`;
    dir = join(info.dataDir, folder);
    await mkdir(join(dir, "sub"), { recursive: true });
    await writeFile(join(dir, "data.bin"), DATA);
    await writeFile(join(dir, "big.bin"), BIG);
    await writeFile(join(dir, "empty.bin"), new Uint8Array(0));
    await writeFile(join(dir, "sub", "x.txt"), "x");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const mountOf = (): HttpTreeMount =>
    HttpTree(folderUrl(serverInfo(name), folder), serverOptions(serverInfo(name)));

  it.each([
    ["unlisted", false],
    ["listed", true],
  ] as const)(
    "%s: first byte, last byte, middle, whole, empty, past the end, clipped",
    async (_label, listed) => {
      const mount = mountOf();
      if (listed) expect((await mount.list()).find((e) => e.path === "data.bin")?.size).toBe(SIZE);
      const range = (start: number, end: number) => mount.fetchRange("data.bin", start, end);
      expect(await range(0, 1)).toEqual(DATA.subarray(0, 1));
      expect(await range(SIZE - 1, SIZE)).toEqual(DATA.subarray(SIZE - 1));
      expect(await range(1000, 1234)).toEqual(DATA.subarray(1000, 1234));
      expect(await range(0, SIZE)).toEqual(DATA);
      expect((await range(5, 5)).length).toBe(0);
      expect((await range(9, 3)).length).toBe(0);
      expect((await range(SIZE, SIZE + 10)).length).toBe(0);
      expect((await range(SIZE + 100, SIZE + 200)).length).toBe(0);
      expect(await range(SIZE - 3, SIZE + 100)).toEqual(DATA.subarray(SIZE - 3));
      expect(await range(17, Number.MAX_SAFE_INTEGER)).toEqual(DATA.subarray(17));
      expect((await mount.fetchRange("empty.bin", 0, 10)).length).toBe(0);
    },
  );

  it("a range over 1 MiB (the large-read path) is exact", async () => {
    const mount = mountOf();
    await mount.list();
    const got = await mount.fetchRange("big.bin", 100, BIG_SIZE - 5);
    expect(got.length).toBe(BIG_SIZE - 105);
    expect(Buffer.from(got).equals(Buffer.from(BIG.subarray(100, BIG_SIZE - 5)))).toBe(true);
    const tail = await mount.fetchRange("big.bin", BIG_SIZE - 2 * 1024 * 1024, BIG_SIZE + 1);
    expect(Buffer.from(tail).equals(Buffer.from(BIG.subarray(BIG_SIZE - 2 * 1024 * 1024)))).toBe(true);
  });

  it("into: a 206 is written into the caller's buffer (short and long ranges); the listing and the ranges never use undici", async () => {
    let undiciRequests = 0;
    const onRequest = (): void => {
      undiciRequests++;
    };
    diagnostics.subscribe("undici:request:create", onRequest);
    try {
      const mount = mountOf();
      await mount.list();
      const into = new Uint8Array(BIG_SIZE);
      for (const [path, data, start, end] of [
        ["data.bin", DATA, 10, 2000],
        ["big.bin", BIG, 5, 2 * 1024 * 1024],
        ["big.bin", BIG, 1024 * 1024, BIG_SIZE + 9],
      ] as const) {
        const got = await mount.fetchRange(path, start, end, into);
        expect(Buffer.from(got).equals(Buffer.from(data.subarray(start, end)))).toBe(true);
        // python's http.server ignores Range: its 200 is cut into a fresh array.
        if (name !== "python-http") expect(got.buffer).toBe(into.buffer);
      }
      expect(undiciRequests).toBe(0);
    } finally {
      diagnostics.unsubscribe("undici:request:create", onRequest);
    }
  });

  it("a missing file is ENOENT, a folder EISDIR, with the path", async () => {
    const mount = mountOf();
    const missing = await errorOf(mount.fetchRange("nope.bin", 0, 10));
    expect(missing.code).toBe("ENOENT");
    expect(missing.path).toBe("nope.bin");
    await mount.list();
    expect((await errorOf(mount.fetchRange("sub", 0, 10))).code).toBe("EISDIR");
  });
});

describe("fetchRange arguments", () => {
  it.each([
    [-1, 10],
    [0, -1],
    [1.5, 10],
    [0, Number.NaN],
    [0, Number.POSITIVE_INFINITY],
    [Number.MAX_SAFE_INTEGER + 2, Number.MAX_SAFE_INTEGER + 4],
  ])("start %s, end %s is EINVAL before any request", async (start, end) => {
    const before = server.requests.length;
    const error = await errorOf(HttpTree(`${server.url}nothing/`).fetchRange("x.bin", start, end));
    expect(error.code).toBe("EINVAL");
    expect(error.path).toBe("x.bin");
    expect(server.requests.length).toBe(before);
  });

  it("a path with .. is EINVAL", async () => {
    const error = await errorOf(HttpTree(`${server.url}nothing/`).fetchRange("../x.bin", 0, 1));
    expect(error.code).toBe("EINVAL");
  });
});

describe("fetchRange against lying and odd servers", () => {
  it("a 206 that is not the range asked for is EIO, never data", async () => {
    const mount = HttpTree(`${server.url}ranges/`);
    const error = await errorOf(mount.fetchRange("bad.bin", 500, 600));
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/asked for bytes=500-599.*bytes 0-99\/1000.*refused/);
    const shifted = await errorOf(mount.fetchRange("shifted.bin", 500, 600));
    expect(shifted.code).toBe("EIO");
    expect(shifted.message).toMatch(/asked for bytes=500-599.*bytes 501-599\/1000.*refused/);
  });

  it("a 206 whose total differs from the listed size is EIO (refresh)", async () => {
    const mount = HttpTree(`${server.url}grown/`);
    await mount.list();
    const error = await errorOf(mount.fetchRange("grown.bin", 0, 10));
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/2000 bytes, but the listing says 1000.*refresh/);
    // Unlisted, the same answer is a good range.
    expect(await HttpTree(`${server.url}grown/`).fetchRange("grown.bin", 0, 10)).toEqual(
      new Uint8Array(10).fill(1),
    );
  });

  it("a 200 that never ends (Range ignored) is read only up to the end of the range", async () => {
    const mount = HttpTree(`${server.url}endless/`);
    const got = await mount.fetchRange("stream.bin", 100_000, 100_010);
    expect([...got]).toEqual(Array.from({ length: 10 }, (_, i) => (100_000 + i) % 251));
  });

  it.each([
    ["status/401/", "EACCES"],
    ["status/403/", "EACCES"],
    ["status/429/", "EAGAIN"],
    ["status/503/", "EIO"],
  ])("%s → %s, as fetch", async (path, code) => {
    const mount = HttpTree(`${server.url}${path}`);
    const ranged = await errorOf(mount.fetchRange("a.txt", 0, 10));
    const whole = await errorOf(mount.fetch("a.txt"));
    expect(ranged.code).toBe(code);
    expect(whole.code).toBe(code);
    expect((ranged as MountError & { transient?: boolean }).transient).toBe(
      (whole as MountError & { transient?: boolean }).transient,
    );
  });

  it("credentials never reach the error", async () => {
    const secret = "range-bearer-secret-1234567";
    const error = await errorOf(
      HttpTree(`${server.url}status/500/`, { auth: { bearer: secret } }).fetchRange("a.txt", 0, 10),
    );
    expect(error.code).toBe("EIO");
    expect(JSON.stringify({ message: error.message, stack: error.stack })).not.toContain(secret);
  });
});
