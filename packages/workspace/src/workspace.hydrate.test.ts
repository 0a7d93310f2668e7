import type { LazyMount, MountEntry } from "@ws/core";
import { describe, expect, it } from "vitest";
import { Workspace } from "./workspace.js";

const MTIME = Date.UTC(2024, 0, 2, 3, 4, 5);

function pattern(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 7 + 3) & 0xff;
  return bytes;
}

/** A lazy mount that returns a fresh array per fetch (the contract) and remembers what it handed out. */
function freshMount(size: number): LazyMount & { handedOut: Uint8Array[] } {
  const source = pattern(size);
  const handedOut: Uint8Array[] = [];
  return {
    kind: "fresh",
    writable: true,
    handedOut,
    async list(): Promise<MountEntry[]> {
      return [{ path: "big.bin", size, mtime: MTIME, mode: 0o640 }];
    },
    async fetch(): Promise<Uint8Array> {
      const bytes = new Uint8Array(source);
      handedOut.push(bytes);
      return bytes;
    },
    async put(): Promise<void> {},
  };
}

describe("hydrating a stub adopts the fetched bytes", () => {
  it("reads back the fetched bytes with the listed mode and mtime, once per path", async () => {
    const mount = freshMount(200_000);
    const ws = new Workspace({ mounts: { "/m": mount } });
    const [a, b] = await Promise.all([ws.fs.readFile("/m/big.bin"), ws.fs.readFile("/m/big.bin")]);
    expect(mount.handedOut).toHaveLength(1);
    const expected = Buffer.from(pattern(200_000));
    expect(a.equals(expected)).toBe(true);
    expect(b.equals(expected)).toBe(true);
    expect(a.buffer).not.toBe(b.buffer);
    const st = await ws.fs.stat("/m/big.bin");
    expect(st.size).toBe(200_000);
    expect(st.mode & 0o777).toBe(0o640);
    expect(st.mtimeMs).toBe(MTIME);
    await ws.close();
  });

  it("keeps the fetched array itself, no copy (pinned by breaking the fetch contract on purpose)", async () => {
    const mount = freshMount(4096);
    const ws = new Workspace({ mounts: { "/m": mount } });
    await ws.fs.readFile("/m/big.bin");
    const fetched = mount.handedOut[0];
    if (!fetched) throw new Error("no fetch");
    fetched[0] = 0xab;
    expect((await ws.fs.readFile("/m/big.bin"))[0]).toBe(0xab);
    await ws.close();
  });

  it("gives every reader its own Buffer: mutating one does not change the next read", async () => {
    const ws = new Workspace({ mounts: { "/m": freshMount(50_000) } });
    const first = await ws.fs.readFile("/m/big.bin");
    first.fill(0xee);
    const second = await ws.fs.readFile("/m/big.bin");
    expect(second.equals(Buffer.from(pattern(50_000)))).toBe(true);
    second.fill(0x11);
    expect((await ws.fs.readFile("/m/big.bin")).equals(Buffer.from(pattern(50_000)))).toBe(true);
    await ws.close();
  });

  it("later appends and rewrites of the hydrated file work and do not corrupt", async () => {
    const ws = new Workspace({ mounts: { "/m": freshMount(10_000) } });
    const original = Buffer.from(pattern(10_000));
    expect((await ws.fs.readFile("/m/big.bin")).equals(original)).toBe(true);
    await ws.fs.appendFile("/m/big.bin", "tail");
    expect((await ws.fs.readFile("/m/big.bin")).equals(Buffer.concat([original, Buffer.from("tail")]))).toBe(
      true,
    );
    await ws.fs.writeFile("/m/big.bin", "short");
    expect(await ws.fs.readFile("/m/big.bin", "utf8")).toBe("short");
    expect((await ws.fs.stat("/m/big.bin")).size).toBe(5);
    await ws.close();
  });

  it("appending to a stub hydrates it first and keeps the fetched bytes", async () => {
    const ws = new Workspace({ mounts: { "/m": freshMount(1000) } });
    await ws.fs.appendFile("/m/big.bin", "!");
    const got = await ws.fs.readFile("/m/big.bin");
    expect(got.equals(Buffer.concat([Buffer.from(pattern(1000)), Buffer.from("!")]))).toBe(true);
    await ws.close();
  });
});
