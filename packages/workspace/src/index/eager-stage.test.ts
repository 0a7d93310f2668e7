import type { EagerMount, MountOptions, MountWriteApi } from "@ws/core";
import { describe, expect, it } from "vitest";
import { Workspace } from "../workspace.js";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

/** An eager mount whose materialize is the given function (read-only unless `writable`). */
function eager(
  materialize: (api: MountWriteApi) => Promise<void> | void,
  writable = false,
  options: MountOptions = {},
): EagerMount {
  return {
    kind: "test-eager",
    strategy: "eager",
    writable,
    options: writable ? { ...options, mode: "read-write" } : options,
    // A writable bundle takes write-back and forgets it: these tests look at the VFS only.
    ...(writable ? { put: async () => {}, delete: async () => {} } : {}),
    async materialize(api) {
      await materialize(api);
    },
  };
}

describe("eager commit: the workspace owns the bytes it committed", () => {
  it("a provider mutating its buffer after write (during and after materialize) changes nothing in the workspace", async () => {
    const buf = text("original");
    // A provider that reuses one buffer: written at two paths, then changed, written again.
    const mount = eager((api) => {
      api.writeFile("/e/a.txt", buf, 0o644);
      api.writeFile("/e/sub/b.txt", buf, 0o644);
      buf.set(text("CHANGED!"));
      api.writeFile("/e/c.txt", buf, 0o644);
      buf.set(text("later!!!"));
    });
    const ws = new Workspace({ mounts: { "/e": mount } });
    expect(await ws.fs.readFile("/e/a.txt", "utf8")).toBe("original");
    // After the index: the provider still holds the buffer and changes it again.
    buf.set(text("mutated!"));
    new Uint8Array(buf.buffer).fill(0x7a);
    expect(await ws.fs.readFile("/e/a.txt", "utf8")).toBe("original");
    expect(await ws.fs.readFile("/e/sub/b.txt", "utf8")).toBe("original");
    expect(await ws.fs.readFile("/e/c.txt", "utf8")).toBe("CHANGED!");
    await ws.close();
  });

  it("adoptFile: the provider's array becomes the file's content without a copy; ignore and quota still apply", async () => {
    const given = text("adopted!");
    // Two files given as views into one buffer (an archive reader's inflated chunk): each is
    // exactly its own range.
    const slab = text("xxviewtwo!");
    const view = slab.subarray(2, 6);
    const mount = eager(
      (api) => {
        api.adoptFile?.("/e/a.txt", given, 0o640);
        api.adoptFile?.("/e/v.txt", view);
        api.adoptFile?.("/e/w.txt", slab.subarray(6));
        api.adoptFile?.("/e/skip.log", text("ignored"));
      },
      false,
      { ignore: ["*.log"] },
    );
    const ws = new Workspace({ mounts: { "/e": mount } });
    expect(await ws.fs.readFile("/e/a.txt", "utf8")).toBe("adopted!");
    expect(await ws.fs.readFile("/e/v.txt", "utf8")).toBe("view");
    expect(((await ws.fs.stat("/e/a.txt")).mode & 0o777).toString(8)).toBe("640");
    expect(await ws.fs.exists("/e/skip.log")).toBe(false);
    expect(await ws.fs.readFile("/e/w.txt", "utf8")).toBe("two!");
    // Breaking the contract on purpose, to see that no copy was made: the array is the content.
    given.set(text("CHANGED!"));
    expect(await ws.fs.readFile("/e/a.txt", "utf8")).toBe("CHANGED!");
    slab.set(text("VIEW"), 2);
    expect(await ws.fs.readFile("/e/v.txt", "utf8")).toBe("VIEW");
    expect(await ws.fs.readFile("/e/w.txt", "utf8")).toBe("two!");
    expect((await ws.fs.stat("/e/v.txt")).size).toBe(4);
    await ws.close();

    const over = new Workspace({
      mounts: {
        "/e": eager((api) => api.adoptFile?.("/e/big", new Uint8Array(11)), false, { maxBytes: 10 }),
      },
    });
    await expect(over.fs.stat("/e")).rejects.toMatchObject({ code: "EDQUOT" });
    await over.close();
  });

  it("a provider whose bytes are a view into a larger buffer it keeps changing: each file keeps what was written", async () => {
    const slab = new Uint8Array(64);
    const mount = eager((api) => {
      for (let i = 0; i < 4; i++) {
        slab.fill(0x61 + i, 0, 16);
        api.writeFile(`/e/f${i}.txt`, slab.subarray(0, 16));
      }
      slab.fill(0);
    });
    const ws = new Workspace({ mounts: { "/e": mount } });
    for (let i = 0; i < 4; i++) {
      expect(await ws.fs.readFile(`/e/f${i}.txt`, "utf8")).toBe(String.fromCharCode(0x61 + i).repeat(16));
    }
    await ws.close();
  });

  it("writes to one committed file change neither the provider's buffer nor another file written from it", async () => {
    const buf = text("0123456789");
    const mount = eager((api) => {
      api.writeFile("/e/a.txt", buf);
      api.writeFile("/e/b.txt", buf);
    }, true);
    const ws = new Workspace({ mounts: { "/e": mount } });
    await ws.fs.appendFile("/e/a.txt", "+");
    expect(await ws.fs.readFile("/e/a.txt", "utf8")).toBe("0123456789+");
    await ws.fs.writeFile("/e/b.txt", "XY");
    expect(await ws.fs.readFile("/e/a.txt", "utf8")).toBe("0123456789+");
    expect(await ws.fs.readFile("/e/b.txt", "utf8")).toBe("XY");
    expect(decode(buf)).toBe("0123456789");
    await ws.close();
  });
});

describe("eager commit: the tree lands as staged", () => {
  it("many files in a few folders (no explicit mkdir): bytes, modes, empty files, folder modes, links, quota", async () => {
    // Every file's bytes; a symlink is an entry of no bytes (as the workspace counts it elsewhere).
    const bytes = 5 * (10 * 3 + 30 * 4) + "#!/bin/sh\n".length;
    const mount = eager(
      (api) => {
        api.mkdir("/e/bin", 0o750);
        for (let d = 0; d < 5; d++) {
          for (let f = 0; f < 40; f++) {
            api.writeFile(`/e/d${d}/deep/f${f}.txt`, text(`${d}/${f}`), f % 2 === 0 ? 0o755 : 0o600);
          }
        }
        api.writeFile("/e/bin/run", text("#!/bin/sh\n"), 0o755);
        api.writeFile("/e/empty", new Uint8Array(0));
        api.symlink?.("/e/link", "d0/deep/f0.txt");
      },
      true,
      { maxEntries: 203, maxBytes: bytes },
    );
    const ws = new Workspace({ mounts: { "/e": mount } });
    expect((await ws.fs.readdir("/e")).sort()).toEqual([
      "bin",
      "d0",
      "d1",
      "d2",
      "d3",
      "d4",
      "empty",
      "link",
    ]);
    expect((await ws.fs.readdir("/e/d3/deep")).length).toBe(40);
    expect(await ws.fs.readFile("/e/d4/deep/f39.txt", "utf8")).toBe("4/39");
    expect((await ws.fs.stat("/e/d2/deep/f2.txt")).mode & 0o7777).toBe(0o755);
    expect((await ws.fs.stat("/e/d2/deep/f3.txt")).mode & 0o7777).toBe(0o600);
    expect((await ws.fs.stat("/e/bin")).mode & 0o7777).toBe(0o750);
    expect((await ws.fs.stat("/e/d1")).mode & 0o7777).toBe(0o755);
    expect((await ws.fs.stat("/e/empty")).size).toBe(0);
    expect(await ws.fs.readlink("/e/link")).toBe("d0/deep/f0.txt");
    expect(await ws.fs.readFile("/e/link", "utf8")).toBe("0/0");
    // The quota starts from what was committed: 203 entries, every byte counted.
    await expect(ws.fs.writeFile("/e/one-more.txt", "")).rejects.toMatchObject({ code: "EDQUOT" });
    await expect(ws.fs.appendFile("/e/empty", "x")).rejects.toMatchObject({ code: "EDQUOT" });
    await ws.fs.writeFile("/e/d0/deep/f1.txt", "0/9");
    await ws.close();
  });

  it("a file and a symlink staged at one path: EINVAL before the commit, nothing lands", async () => {
    const mount = eager((api) => {
      api.writeFile("/e/a.txt", text("a"));
      api.writeFile("/e/x", text("x"));
      api.symlink?.("/e/x", "a.txt");
    });
    const ws = new Workspace({ mounts: { "/e": mount } });
    await expect(ws.fs.readdir("/e")).rejects.toMatchObject({ code: "EINVAL" });
    await ws.close();
  });

  it("mounted at run time over files already in the workspace: the bundle's bytes and modes replace them", async () => {
    const ws = new Workspace();
    await ws.fs.mkdir("/e/sub", { recursive: true });
    await ws.fs.writeFile("/e/sub/a.txt", "local, longer than the bundle's");
    await ws.fs.chmod("/e/sub/a.txt", 0o600);
    await ws.fs.writeFile("/e/keep.txt", "kept");
    ws.mount(
      "/e",
      eager((api) => {
        api.writeFile("/e/sub/a.txt", text("bundle"), 0o755);
        api.writeFile("/e/b.txt", text("b"));
      }),
    );
    expect(await ws.fs.readFile("/e/sub/a.txt", "utf8")).toBe("bundle");
    expect((await ws.fs.stat("/e/sub/a.txt")).mode & 0o7777).toBe(0o755);
    expect(await ws.fs.readFile("/e/b.txt", "utf8")).toBe("b");
    expect(await ws.fs.readFile("/e/keep.txt", "utf8")).toBe("kept");
    await ws.close();
  });
});
