import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesSource, type PutSource } from "@ws/core";
import { Workspace } from "@ws/workspace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostDir } from "./host-dir.js";

const MiB = 1024 * 1024;

let host: string;
beforeAll(async () => {
  host = await mkdtemp(join(tmpdir(), "ws-host-stream-"));
});
afterAll(async () => {
  await rm(host, { recursive: true, force: true });
});

/** `size` bytes with `data` at `at` and holes elsewhere; counts the bytes read. */
function sparse(size: number, at: number, data: string): PutSource & { readBytes: number } {
  const bytes = Buffer.from(data);
  const source = {
    size,
    extents: [[at, at + bytes.length] as const],
    readBytes: 0,
    async read(start: number, end: number) {
      source.readBytes += end - start;
      const out = new Uint8Array(end - start);
      for (let i = Math.max(start, at); i < Math.min(end, at + bytes.length); i++)
        out[i - start] = bytes[i - at]!;
      return out;
    },
  };
  return source;
}

function bytesAt(path: string, position: number, length: number): string {
  const fd = openSync(path, "r");
  try {
    const out = Buffer.alloc(length);
    readSync(fd, out, 0, length, position);
    return out.toString();
  } finally {
    closeSync(fd);
  }
}

describe("HostDir.putStream", () => {
  it("writes only a sparse source's data: the holes stay holes on the host", async () => {
    const mount = HostDir(host, { mode: "read-write" });
    const source = sparse(64 * MiB, 3 * MiB + 7, "data");
    await mount.putStream!("direct/sparse.bin", source, { mode: 0o640, mtime: 1_700_000_000_000 });
    const st = statSync(join(host, "direct/sparse.bin"));
    expect(st.size).toBe(64 * MiB);
    expect(st.blocks * 512).toBeLessThan(MiB);
    expect(st.mode & 0o777).toBe(0o640);
    expect(st.mtimeMs).toBe(1_700_000_000_000);
    expect(source.readBytes).toBe(4);
    expect(bytesAt(join(host, "direct/sparse.bin"), 3 * MiB + 7, 4)).toBe("data");
    await mount.putStream!("direct/dense.bin", bytesSource(Buffer.from("dense bytes")));
    expect(readFileSync(join(host, "direct/dense.bin"), "utf8")).toBe("dense bytes");
  });

  it("a sparse file a command writes lands sparse through exec (issue 18.5)", async () => {
    const ws = new Workspace({ mounts: { "/m": HostDir(join(host), { mode: "read-write" }) } });
    const r = await ws.exec(
      "sh",
      [
        "-c",
        "truncate -s 64M m/cmd-sparse.bin && printf data | dd of=m/cmd-sparse.bin bs=1 seek=3000000 conv=notrunc status=none",
      ],
      { streamBytes: MiB },
    );
    expect([r.exitCode, r.stderr, r.changes.errors]).toEqual([0, "", []]);
    expect(r.changes.mirrored).toEqual(["/m/cmd-sparse.bin"]);
    await ws.close();
    const st = statSync(join(host, "cmd-sparse.bin"));
    expect(st.size).toBe(64 * MiB);
    expect(st.blocks * 512).toBeLessThan(MiB);
    expect(bytesAt(join(host, "cmd-sparse.bin"), 3_000_000, 4)).toBe("data");
  });
});
