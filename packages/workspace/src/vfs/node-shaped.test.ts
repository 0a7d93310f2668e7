import { type LazyMount, MemoryMount, type MountEntry } from "@ws/core";
import { describe, expect, it } from "vitest";
import { Workspace } from "../workspace.js";

const errorOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("Node-shaped behaviour (issue 9 item 10)", () => {
  it("a path under a file is ENOTDIR, as in Node", async () => {
    const ws = new Workspace({
      mounts: {
        "/ro": MemoryMount({ files: { "a.txt": "a" } }),
        "/rw": MemoryMount({ mode: "read-write", files: { "b.txt": "b" } }),
      },
    });
    await ws.fs.writeFile("/plain.txt", "p");
    for (const path of ["/ro/a.txt/x", "/rw/b.txt/x", "/plain.txt/x"]) {
      expect(await errorOf(ws.fs.readFile(path)), path).toMatchObject({ code: "ENOTDIR", syscall: "open" });
      expect(await errorOf(ws.fs.stat(path)), path).toMatchObject({ code: "ENOTDIR", syscall: "stat" });
    }
    expect(await errorOf(ws.fs.writeFile("/rw/b.txt/x", "x"))).toMatchObject({
      code: "ENOTDIR",
      syscall: "open",
    });
    expect(await errorOf(ws.fs.writeFile("/plain.txt/x", "x"))).toMatchObject({
      code: "ENOTDIR",
      syscall: "open",
    });
    expect(await ws.fs.exists("/rw/b.txt/x")).toBe(false);
    await ws.close();
  });

  it("a segment over 255 bytes fails at writeFile with ENAMETOOLONG, before anything is scheduled", async () => {
    const mount = MemoryMount({ mode: "read-write", writeBack: "manual" });
    const ws = new Workspace({ mounts: { "/rw": mount } });
    const long = `/rw/${"é".repeat(128)}.txt`;
    expect(await errorOf(ws.fs.writeFile(long, "x"))).toMatchObject({
      code: "ENAMETOOLONG",
      syscall: "open",
    });
    expect(await errorOf(ws.fs.mkdir(`/rw/${"d".repeat(256)}`))).toMatchObject({
      code: "ENAMETOOLONG",
      syscall: "mkdir",
    });
    await ws.flushMounts();
    await ws.close();
  });

  it("a provider error with a POSIX code keeps it (not EIO)", async () => {
    const inner = MemoryMount({ files: { "secret.txt": "s" } });
    const mount: LazyMount = {
      kind: "odd",
      strategy: "lazy",
      writable: false,
      options: {},
      rootType: "directory",
      list: (): Promise<MountEntry[]> => inner.list(),
      async fetch() {
        throw Object.assign(new Error("permission denied by the backend"), { code: "EACCES" });
      },
    };
    const ws = new Workspace({ mounts: { "/m": mount }, retry: { retries: 0 } });
    expect(await errorOf(ws.fs.readFile("/m/secret.txt"))).toMatchObject({ code: "EACCES", syscall: "open" });
    await ws.close();
  });

  it("readdir recursive lists the whole subtree as Node 20 does (stubs, memfs files, mount roots)", async () => {
    const ws = new Workspace({
      mounts: {
        "/w/docs": MemoryMount({ files: { "a.md": "a", "sub/b.md": "b", "sub/deeper/c.md": "c" } }),
      },
    });
    await ws.fs.writeFile("/w/top.txt", "t");
    const names = (await ws.fs.readdir("/w", { recursive: true })) as string[];
    expect([...names].sort()).toEqual(
      [
        "docs",
        "docs/a.md",
        "docs/sub",
        "docs/sub/b.md",
        "docs/sub/deeper",
        "docs/sub/deeper/c.md",
        "top.txt",
      ].sort(),
    );
    await ws.close();
  });

  it("keys a kit provider skipped reach the workspace's diagnostic event", async () => {
    const { defineLazyMount } = await import("@ws/core");
    const mount = defineLazyMount({
      kind: "skippy",
      options: {},
      async *listPages() {
        yield [
          { key: "ok.txt", size: 1 },
          { key: "../escape.txt", size: 1 },
        ];
      },
      fetch: async () => new Uint8Array([1]),
    });
    const ws = new Workspace({ mounts: { "/m": mount } });
    const diagnostics: unknown[] = [];
    ws.on("diagnostic", (d) => diagnostics.push(d));
    expect(await ws.fs.readdir("/m")).toEqual(["ok.txt"]);
    expect(diagnostics.length).toBeGreaterThan(0);
    await ws.close();
  });
});

describe("syscall names as Node gives them", () => {
  it("each call on a missing path fails with the syscall node:fs/promises reports", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const nodeFs = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(`${tmpdir()}/ws-syscall-`);
    const ws = new Workspace();
    await ws.fs.mkdir("/d");
    const calls: Array<[string, (fs: typeof nodeFs, base: string) => Promise<unknown>]> = [
      ["readFile", (fs, b) => fs.readFile(`${b}/nope`)],
      ["writeFile", (fs, b) => fs.writeFile(`${b}/nope/x`, "x")],
      ["appendFile", (fs, b) => fs.appendFile(`${b}/nope/x`, "x")],
      ["readdir", (fs, b) => fs.readdir(`${b}/nope`)],
      ["stat", (fs, b) => fs.stat(`${b}/nope`)],
      ["lstat", (fs, b) => fs.lstat(`${b}/nope`)],
      ["mkdir", (fs, b) => fs.mkdir(`${b}/nope/x`)],
      ["rm", (fs, b) => fs.rm(`${b}/nope`)],
      ["rmdir", (fs, b) => fs.rmdir(`${b}/nope`)],
      ["unlink", (fs, b) => fs.unlink(`${b}/nope`)],
      ["rename", (fs, b) => fs.rename(`${b}/nope`, `${b}/other`)],
      ["access", (fs, b) => fs.access(`${b}/nope`)],
      ["copyFile", (fs, b) => fs.copyFile(`${b}/nope`, `${b}/other`)],
      ["readlink", (fs, b) => fs.readlink(`${b}/nope`)],
      ["realpath", (fs, b) => fs.realpath(`${b}/nope`)],
      ["chmod", (fs, b) => fs.chmod(`${b}/nope`, 0o644)],
      ["utimes", (fs, b) => fs.utimes(`${b}/nope`, 1, 1)],
    ];
    const mismatches: string[] = [];
    for (const [name, call] of calls) {
      const expected = (await errorOf(call(nodeFs, dir))) as { code: string; syscall: string };
      const got = (await errorOf(call(ws.fs as unknown as typeof nodeFs, "/d"))) as {
        code: string;
        syscall: string;
      };
      if (got?.code !== expected.code || got?.syscall !== expected.syscall) {
        mismatches.push(
          `${name}: node ${expected.code}/${expected.syscall}, ws ${got?.code}/${got?.syscall}`,
        );
      }
    }
    await rm(dir, { recursive: true, force: true });
    await ws.close();
    expect(mismatches).toEqual([]);
  });
});
