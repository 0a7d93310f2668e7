import { describe, expect, it } from "vitest";
import { defineEagerMount, defineLazyMount, mountTraits, type RawEntry } from "./define-mount.js";
import { MountError } from "./errors.js";
import type { MountDiagnostic, MountWriteApi, PutOptions } from "./types.js";

async function errorOf(promise: Promise<unknown>): Promise<MountError> {
  try {
    await promise;
  } catch (error) {
    if (MountError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a MountError");
}

function backend(keys: RawEntry[]) {
  const calls: string[] = [];
  return {
    calls,
    definition: {
      kind: "fake",
      async *listPages() {
        calls.push("list");
        yield keys.slice(0, 2);
        yield keys.slice(2);
      },
      async fetch(key: string) {
        calls.push(`fetch ${key}`);
        return new TextEncoder().encode(key);
      },
      async put(key: string, _bytes: Uint8Array, options: PutOptions) {
        calls.push(`put ${key} ${JSON.stringify(options)}`);
        return { etag: `e-${key}` };
      },
      async delete(key: string) {
        calls.push(`delete ${key}`);
      },
    },
  };
}

describe("defineLazyMount", () => {
  it("maps paths under the prefix, strips it in listings and drops keys outside it and folder markers", async () => {
    const diagnostics: MountDiagnostic[] = [];
    const { definition, calls } = backend([
      { key: "p/a.txt", size: 1 },
      { key: "p/dir/", size: 0 },
      { key: "other/x", size: 1 },
      { key: "p/b/c", size: 2, etag: "E", mtime: 5, mode: 0o755 },
      { key: "p/bad//key", size: 1 },
    ]);
    const mount = defineLazyMount({
      ...definition,
      prefix: "/p/",
      options: { mode: "read-write", onDiagnostic: (d) => diagnostics.push(d) },
    });
    expect(mount.prefix).toBe("p");
    expect(await mount.list()).toEqual([
      { path: "a.txt", size: 1 },
      { path: "b/c", size: 2, etag: "E", mtime: 5, mode: 0o755 },
    ]);
    expect(diagnostics.map((d) => d.key)).toEqual(["bad//key"]);
    await mount.fetch("a.txt");
    expect(await mount.put("n/x", new Uint8Array([1]), { ifNoneMatch: "*" })).toEqual({ etag: "e-p/n/x" });
    await mount.delete("a.txt");
    expect(calls).toEqual(["list", "fetch p/a.txt", 'put p/n/x {"ifNoneMatch":"*"}', "delete p/a.txt"]);
    expect((await errorOf(mount.fetch("../x"))).code).toBe("EINVAL");
  });

  it("refuses writes on a read-only mount, bad bytes and bad preconditions, before any I/O", async () => {
    const { definition, calls } = backend([]);
    const ro = defineLazyMount(definition);
    expect(ro.writable).toBe(false);
    expect(await errorOf(ro.put("a", new Uint8Array()))).toMatchObject({ code: "EROFS", syscall: "write" });
    expect(await errorOf(ro.delete("a"))).toMatchObject({ code: "EROFS", syscall: "unlink" });
    const rw = defineLazyMount({ ...definition, options: { mode: "read-write" }, conditionalWrites: false });
    expect((await errorOf(rw.put("a", "text" as never))).code).toBe("EINVAL");
    expect((await errorOf(rw.put("a", new Uint8Array(), { ifNoneMatch: "etag" as never }))).code).toBe(
      "EINVAL",
    );
    const unsupported = await errorOf(rw.put("a", new Uint8Array(), { ifMatch: "x" }));
    expect(unsupported.code).toBe("ENOTSUP");
    expect(unsupported.message).toMatch(/conditionalWrites: false/);
    expect(calls).toEqual([]);
  });

  it("classifies failures, adds path and syscall, and scrubs declared secrets", async () => {
    const mount = defineLazyMount({
      kind: "fake",
      secrets: () => ["hunter2-secret"],
      classify: (error, context) =>
        new MountError("EIO", `${context.op} ${context.key}: ${(error as Error).message}`, {
          transient: true,
          cause: error,
        }),
      async *listPages() {
        yield [];
        throw new Error("list broke with hunter2-secret");
      },
      async fetch() {
        throw new Error("reset using hunter2-secret");
      },
    });
    const fetchError = await errorOf(mount.fetch("a/b"));
    expect(fetchError).toMatchObject({ code: "EIO", transient: true, path: "a/b", syscall: "open" });
    expect(fetchError.message).toBe("EIO: fetch a/b: reset using [redacted]");
    expect((fetchError.cause as Error).message).not.toContain("hunter2");
    const listError = await errorOf(mount.list());
    expect(listError).toMatchObject({ syscall: "scandir", path: "" });
    expect(listError.message).not.toContain("hunter2");
  });

  it("passes MountErrors through and makes unknown failures persistent EIO", async () => {
    const mount = defineLazyMount({
      kind: "fake",
      async *listPages() {},
      async fetch(key) {
        if (key === "gone") throw new MountError("ENOENT", "no such thing");
        throw new Error("weird");
      },
    });
    expect(await errorOf(mount.fetch("gone"))).toMatchObject({ code: "ENOENT", path: "gone" });
    expect(await errorOf(mount.fetch("x"))).toMatchObject({ code: "EIO", transient: false });
  });

  it("keeps extras (non-enumerable stays so), refresh, dispose, options and traits", async () => {
    let disposed = 0;
    const extra = { hello: () => "hi" };
    Object.defineProperty(extra, "client", { value: "CLIENT", enumerable: false });
    const mount = defineLazyMount({
      kind: "fake",
      options: { mode: "read-write", maxBytes: 10, ignore: ["x"] },
      retries: "client",
      refresh: true,
      extra,
      async *listPages() {
        yield [{ key: "a", size: 1 }];
      },
      async fetch() {
        return new Uint8Array();
      },
      dispose() {
        disposed++;
      },
    });
    expect(mount.hello()).toBe("hi");
    expect((mount as unknown as { client: string }).client).toBe("CLIENT");
    expect(Object.keys(mount)).not.toContain("client");
    expect(await mount.refresh?.()).toEqual([{ path: "a", size: 1 }]);
    await mount.dispose?.();
    expect(disposed).toBe(1);
    expect(mount.options).toEqual({ mode: "read-write", maxBytes: 10, ignore: ["x"] });
    expect(mountTraits(mount)?.retries).toBe("client");
    expect(() => defineLazyMount({ ...backend([]).definition, options: { mode: "rw" as never } })).toThrow(
      /mode/,
    );
  });
});

describe("defineEagerMount", () => {
  function host(root?: string) {
    const writes: string[] = [];
    const api: MountWriteApi = {
      ...(root === undefined ? {} : { root }),
      writeFile: (p) => writes.push(`file ${p}`),
      mkdir: (p) => writes.push(`dir ${p}`),
      symlink: (p, t) => writes.push(`link ${p} -> ${t}`),
    };
    return { api, writes };
  }

  it("takes relative paths and writes absolute ones under the root", async () => {
    const mount = defineEagerMount({
      kind: "tree",
      async materialize(w) {
        w.mkdir("");
        w.mkdir("d", 0o755);
        w.writeFile("d/a.txt", new Uint8Array([1]));
        w.symlink?.("d/l", "a.txt");
      },
    });
    const { api, writes } = host("/w/t");
    await mount.materialize(api);
    expect(writes).toEqual(["dir /w/t", "dir /w/t/d", "file /w/t/d/a.txt", "link /w/t/d/l -> a.txt"]);
    expect(mount).toMatchObject({ kind: "tree", strategy: "eager", writable: false });
  });

  it("adoptFile reaches the host's adoptFile, or its writeFile when it has none; paths are checked alike", async () => {
    const given = new Uint8Array([1, 2]);
    const mount = defineEagerMount({
      kind: "tree",
      async materialize(w) {
        w.adoptFile("d/a.bin", given, 0o600);
      },
    });
    const adopted: [string, Uint8Array, number | undefined][] = [];
    const { api, writes } = host("/w/t");
    await mount.materialize({ ...api, adoptFile: (p, b, m) => adopted.push([p, b, m]) });
    expect(writes).toEqual([]);
    expect(adopted).toEqual([["/w/t/d/a.bin", given, 0o600]]);
    expect(adopted[0]?.[1]).toBe(given);

    const plain = host("/w/t");
    await mount.materialize(plain.api);
    expect(plain.writes).toEqual(["file /w/t/d/a.bin"]);

    for (const bad of ["/etc/x", "a/../../x"]) {
      const escaping = defineEagerMount({
        kind: "tree",
        materialize: async (w) => w.adoptFile(bad, new Uint8Array(1)),
      });
      const seen: string[] = [];
      const error = await errorOf(
        escaping.materialize({ ...host("/w/t").api, adoptFile: (p) => seen.push(p) }),
      );
      expect(error.code).toBe("EINVAL");
      expect(seen).toEqual([]);
    }
    const notBytes = defineEagerMount({
      kind: "tree",
      materialize: async (w) => w.adoptFile("x", "text" as never),
    });
    expect((await errorOf(notBytes.materialize(host("/w/t").api))).message).toMatch(
      /adoptFile takes a Uint8Array/,
    );
  });

  it("refuses absolute paths, .. segments and links leaving the root", async () => {
    for (const bad of [
      (w: Parameters<Parameters<typeof defineEagerMount>[0]["materialize"]>[0]) =>
        w.writeFile("/etc/x", new Uint8Array()),
      (w: Parameters<Parameters<typeof defineEagerMount>[0]["materialize"]>[0]) =>
        w.writeFile("a/../../x", new Uint8Array()),
      (w: Parameters<Parameters<typeof defineEagerMount>[0]["materialize"]>[0]) =>
        w.symlink?.("l", "../../etc/passwd"),
    ]) {
      const mount = defineEagerMount({ kind: "tree", materialize: async (w) => bad(w) });
      const { api, writes } = host("/w/t");
      expect((await errorOf(mount.materialize(api))).code).toBe("EINVAL");
      expect(writes).toEqual([]);
    }
    const mount = defineEagerMount({ kind: "tree", materialize: async () => {} });
    expect((await errorOf(mount.materialize(host().api))).message).toMatch(/api\.root/);
  });

  it("classifies failures and scrubs secrets", async () => {
    const mount = defineEagerMount({
      kind: "tree",
      secrets: () => ["tok-abcdef"],
      classify: (e) => new MountError("EACCES", String((e as Error).message)),
      materialize: async () => {
        throw new Error("401 for tok-abcdef");
      },
    });
    const error = await errorOf(mount.materialize(host("/w").api));
    expect(error).toMatchObject({ code: "EACCES", root: "/w" });
    expect(error.message).not.toContain("tok-abcdef");
  });
});
