import { MemoryMount } from "@ws/core";
import { afterEach, describe, expect, it } from "vitest";
import { Workspace } from "../workspace.js";

const RealError = globalThis.Error;

/** Counts every `new Error(...)` made while `fn` runs (memfs makes its errors through the global). */
async function errorsMadeBy(fn: () => Promise<void>): Promise<number> {
  let made = 0;
  class Counting extends RealError {
    constructor(...args: ConstructorParameters<ErrorConstructor>) {
      super(...args);
      made++;
    }
  }
  globalThis.Error = Counting as ErrorConstructor;
  try {
    await fn();
  } finally {
    globalThis.Error = RealError;
  }
  return made;
}

afterEach(() => {
  globalThis.Error = RealError;
});

describe("namespace lookups cost no exceptions (issue 16 item 4)", () => {
  const files = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`d/f${i}.txt`, `file ${i}`]));

  it("stat, exists and readdir of stubs (not in memfs) make no Error", async () => {
    const ws = new Workspace({ mounts: { "/m": MemoryMount({ files }) } });
    await ws.fs.readdir("/m/d");
    const made = await errorsMadeBy(async () => {
      for (let i = 0; i < 50; i++) {
        await ws.fs.stat(`/m/d/f${i}.txt`);
        await ws.fs.lstat(`/m/d/f${i}.txt`);
        expect(await ws.fs.exists(`/m/d/f${i}.txt`)).toBe(true);
      }
      await ws.fs.readdir("/m/d");
    });
    expect(made).toBe(0);
    await ws.close();
  });

  it("a cold read of a stub (fetch, hydrate, read back) makes no Error", async () => {
    const ws = new Workspace({ mounts: { "/m": MemoryMount({ files }) } });
    await ws.fs.readFile("/m/d/f0.txt");
    const made = await errorsMadeBy(async () => {
      for (let i = 1; i < 50; i++) expect(await ws.fs.readFile(`/m/d/f${i}.txt`, "utf8")).toBe(`file ${i}`);
    });
    expect(made).toBe(0);
    await ws.close();
  });

  it("the same holds once a link exists (every path is then resolved through memfs)", async () => {
    const ws = new Workspace({ mounts: { "/m": MemoryMount({ files }) } });
    await ws.fs.symlink("/m/d/f0.txt", "/link");
    expect(await ws.fs.readFile("/link", "utf8")).toBe("file 0");
    const made = await errorsMadeBy(async () => {
      for (let i = 1; i < 50; i++) await ws.fs.stat(`/m/d/f${i}.txt`);
    });
    expect(made).toBe(0);
    await ws.close();
  });

  it("answers do not change: files, links, dangling links, paths through a file", async () => {
    const ws = new Workspace({ mounts: { "/m": MemoryMount({ files }) } });
    await ws.fs.writeFile("/plain.txt", "p");
    await ws.fs.symlink("/nowhere", "/dangling");
    await ws.fs.symlink("/plain.txt", "/good");
    expect((await ws.fs.lstat("/dangling")).isSymbolicLink()).toBe(true);
    await expect(ws.fs.stat("/dangling")).rejects.toMatchObject({ code: "ENOENT" });
    expect((await ws.fs.stat("/good")).isFile()).toBe(true);
    expect(await ws.fs.exists("/plain.txt/x")).toBe(false);
    await expect(ws.fs.stat("/plain.txt/x")).rejects.toMatchObject({ code: "ENOTDIR" });
    expect((await ws.fs.stat("/m/d/f3.txt")).size).toBe(6);
    await ws.close();
  });
});
