import { Volume } from "memfs";
import { describe, expect, it } from "vitest";
import { createMemVol, type MemVol, writeMemFile } from "./mem-vol.js";

function fresh(n: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

describe("writeMemFile", () => {
  it("adopts an exact, exclusively owned array: no copy, reads back equal, mode and mtime as writeFileSync", () => {
    const vol = createMemVol();
    const bytes = fresh(100_000);
    const expected = Buffer.from(bytes);
    expect(writeMemFile(vol, "/a.bin", bytes, 0o600, true)).toBe(true);
    expect(vol.readFileSync("/a.bin").equals(expected)).toBe(true);
    const st = vol.statSync("/a.bin");
    expect(st.size).toBe(100_000);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.isFile()).toBe(true);
    // Pins the zero-copy: memfs holds the very array (only legal because the caller gave it away).
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    expect(vol.readFileSync("/a.bin")[0]).toBe(bytes[0]);

    const copied = createMemVol();
    writeMemFile(copied, "/a.bin", Buffer.from(expected), 0o600, false);
    expect(copied.statSync("/a.bin").mode).toBe(st.mode);
  });

  it("every reader gets an independent Buffer", () => {
    const vol = createMemVol();
    writeMemFile(vol, "/a.bin", fresh(4096), undefined, true);
    const first = vol.readFileSync("/a.bin");
    const expected = Buffer.from(first);
    first.fill(0);
    expect(vol.readFileSync("/a.bin").equals(expected)).toBe(true);
  });

  it("later appends, in-place writes and truncates of an adopted file work and do not corrupt", () => {
    const vol = createMemVol() as MemVol & Volume;
    const bytes = fresh(10_000);
    const model = Buffer.from(bytes);
    writeMemFile(vol, "/f", bytes, undefined, true);

    // In place, within the adopted memory.
    const fd = vol.openSync("/f", "r+");
    vol.writeSync(fd, Buffer.from("hello"), 0, 5, 100);
    vol.closeSync(fd);
    model.write("hello", 100);
    expect(vol.readFileSync("/f").equals(model)).toBe(true);

    // Growing reallocates; the old content must come along.
    vol.appendFileSync("/f", Buffer.from("tail"));
    const grown = Buffer.concat([model, Buffer.from("tail")]);
    expect(vol.readFileSync("/f").equals(grown)).toBe(true);

    vol.truncateSync("/f", 50);
    expect(vol.readFileSync("/f").equals(grown.subarray(0, 50))).toBe(true);
    vol.truncateSync("/f", 60);
    expect(vol.readFileSync("/f").equals(Buffer.concat([grown.subarray(0, 50), Buffer.alloc(10)]))).toBe(
      true,
    );
    vol.truncateSync("/f", 0);
    expect(vol.readFileSync("/f").length).toBe(0);

    // Truncate-and-rewrite of an adopted file (what ws.fs.writeFile does) drops the array.
    const again = fresh(300, 7);
    writeMemFile(vol, "/g", again, undefined, true);
    vol.writeFileSync("/g", Buffer.from("new"));
    expect(vol.readFileSync("/g").toString()).toBe("new");
    expect(again[0]).toBe(fresh(1, 7)[0]);
  });

  it("copies (never adopts) views into a larger buffer and arrays it was not given", () => {
    const vol = createMemVol();
    const big = fresh(1000);
    const view = big.subarray(10, 20);
    expect(writeMemFile(vol, "/v", view, undefined, true)).toBe(false);
    const pooled = Buffer.from("small"); // lives in Node's shared pool
    expect(writeMemFile(vol, "/p", pooled, undefined, true)).toBe(false);
    const owned = fresh(64);
    expect(writeMemFile(vol, "/o", owned, undefined, false)).toBe(false);
    big[10] = (big[10] ?? 0) ^ 0xff;
    owned[0] = (owned[0] ?? 0) ^ 0xff;
    expect(vol.readFileSync("/v")[0]).not.toBe(big[10]);
    expect(vol.readFileSync("/o")[0]).not.toBe(owned[0]);
    expect(vol.readFileSync("/p").toString()).toBe("small");
  });

  it("replaces an existing file like writeFileSync does (truncate, keep its mode)", () => {
    const vol = createMemVol();
    vol.writeFileSync("/e", Buffer.from("a much longer old content"), { mode: 0o640 });
    writeMemFile(vol, "/e", fresh(3), 0o600, true);
    expect(vol.readFileSync("/e").equals(Buffer.from(fresh(3)))).toBe(true);
    expect(vol.statSync("/e").mode & 0o777).toBe(0o640);
  });

  it("works on a plain memfs Volume (the internals it feature-detects are there in this memfs)", () => {
    const vol = new Volume() as unknown as MemVol;
    expect(writeMemFile(vol, "/x", fresh(8), undefined, true)).toBe(true);
  });
});
