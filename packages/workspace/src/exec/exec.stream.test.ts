import { MemoryMount, MemoryStore } from "@ws/core";
import { describe, expect, it } from "vitest";
import { largeFileStreamed } from "../../test/exec-scenarios.js";
import { Workspace } from "../workspace.js";

const MiB = 1024 * 1024;

function memory() {
  const store = new MemoryStore();
  return () => MemoryMount({ mode: "read-write", store });
}

describe("large files a command writes are streamed, not held (issue 18.5)", { timeout: 60_000 }, () => {
  it("MemoryMount: streamed to the mount, a stub in the VFS, seen by the next command", async () => {
    await largeFileStreamed(memory(), 3 * MiB + 5, MiB);
  });

  it("a ws.fs write made while the large file uploads is newer: it stays and reaches the exec side", async () => {
    const inner = MemoryMount({ mode: "read-write" });
    let ws: Workspace | undefined;
    const putStream = inner.putStream!;
    const mount = Object.assign(Object.create(Object.getPrototypeOf(inner)), inner, {
      async putStream(...args: Parameters<typeof putStream>) {
        await ws!.fs.writeFile("/m/big.bin", "api write");
        return putStream.apply(inner, args);
      },
    });
    ws = new Workspace({ mounts: { "/m": mount } });
    const r = await ws.exec("sh", ["-c", "head -c 3000000 /dev/zero > m/big.bin"], { streamBytes: MiB });
    expect([r.exitCode, r.changes.errors]).toEqual([0, []]);
    expect(await ws.fs.readFile("/m/big.bin", "utf8")).toBe("api write");
    const next = await ws.exec("cat", ["m/big.bin"]);
    expect(next.stdout).toBe("api write");
    await ws.close();
    expect(Buffer.from(inner.store.get("big.bin")!.bytes).toString()).toBe("api write");
  });

  it("a mount without putStream, or no mount, still gets the file whole", async () => {
    const plain = MemoryMount({ mode: "read-write" });
    const { putStream: _, ...withoutStream } = plain;
    const ws = new Workspace({ mounts: { "/m": withoutStream } });
    const r = await ws.exec(
      "sh",
      ["-c", "head -c 2000000 /dev/zero > m/a.bin && head -c 2000000 /dev/zero > b.bin"],
      {
        streamBytes: 1000,
      },
    );
    expect([r.exitCode, r.changes.errors]).toEqual([0, []]);
    expect(r.changes.mirrored).toEqual(["/m/a.bin"]);
    expect((await ws.fs.readFile("/m/a.bin")).length).toBe(2_000_000);
    expect((await ws.fs.readFile("/b.bin")).length).toBe(2_000_000);
    await ws.close();
    expect(plain.store.get("a.bin")?.bytes.length).toBe(2_000_000);
  });

  it("refuses a streamBytes that is not a positive integer", async () => {
    const ws = new Workspace();
    await expect(ws.exec("true", [], { streamBytes: 0 })).rejects.toMatchObject({ code: "EINVAL" });
    await ws.close();
  });
});
