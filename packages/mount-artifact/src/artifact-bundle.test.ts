import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { type MountDiagnostic, MountError } from "@ws/core";
import { recordingApi, type WriteCall } from "@ws/testkit";
import { Workspace } from "@ws/workspace";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gzip, tar, zeroBomb, zip } from "../test/archive-builder.js";
import { sha256Digest } from "../test/oci-layout.js";
import { ArtifactBundle, type ArtifactBundleOptions, type ArtifactSource } from "./index.js";

const ROOT = "/w/b";
const MiB = 1024 * 1024;

async function materialize(
  source: ArtifactSource,
  options: ArtifactBundleOptions = {},
): Promise<WriteCall[]> {
  const { api, calls } = recordingApi();
  await ArtifactBundle(source, options).materialize({ ...api, root: ROOT });
  return calls;
}

async function refused(source: ArtifactSource, options: ArtifactBundleOptions = {}): Promise<MountError> {
  const { api, calls } = recordingApi();
  try {
    await ArtifactBundle(source, options).materialize({ ...api, root: ROOT });
  } catch (error) {
    expect(MountError.isInstance(error), String(error)).toBe(true);
    expect(calls).toEqual([]);
    return error as MountError;
  }
  throw new Error("expected a refusal");
}

function summary(calls: readonly WriteCall[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of calls) {
    const rel = c.path.slice(ROOT.length + 1);
    if (c.op === "mkdir") out[`${rel}/`] = (c.mode ?? 0).toString(8);
    else if (c.op === "symlink") out[rel] = `-> ${c.target}`;
    else out[rel] = `${(c.mode ?? 0).toString(8)} ${new TextDecoder().decode(c.bytes)}`;
  }
  return out;
}

describe("options", () => {
  test("invalid options fail at construction with EINVAL naming the option", () => {
    const cases: [ArtifactBundleOptions, string][] = [
      [{ format: "rar" as never }, "format"],
      [{ stripComponents: -1 }, "stripComponents"],
      [{ sha256: "abc" }, "sha256"],
      [{ maxExpansion: 0 }, "maxExpansion"],
      [{ setuid: "keep" as never }, "setuid"],
      [{ prefix: "../x" }, "prefix"],
      [{ maxBytes: -5 }, "maxBytes"],
      [{ platform: "amd64" }, "platform"],
      [{ mode: "rw" as never }, "mode"],
    ];
    for (const [options, name] of cases) {
      let error: unknown;
      try {
        ArtifactBundle(new Uint8Array(1), options);
      } catch (e) {
        error = e;
      }
      expect(MountError.hasCode(error, "EINVAL"), `${name}: ${String(error)}`).toBe(true);
      expect((error as Error).message).toContain(name);
    }
    expect(() => ArtifactBundle("ftp://example.com/x.tar")).toThrow(/unsupported scheme/);
    expect(() => ArtifactBundle("oci://host/UPPER:tag")).toThrow(/repository/);
  });

  test("mode read-write is accepted, but the mount stays read-only", () => {
    const mount = ArtifactBundle(new Uint8Array(1), { mode: "read-write", ignore: ["x"] });
    expect(mount.writable).toBe(false);
    expect(mount.options?.ignore).toEqual(["x"]);
    expect(mount.strategy).toBe("eager");
  });
});

describe("what is kept", () => {
  const archive = tar([
    { name: "pkg/", type: "5", mode: 0o755 },
    { name: "pkg/bin/run", data: "run", mode: 0o755 },
    { name: "pkg/lib/a.txt", data: "a" },
    { name: "pkg/lib/b.txt", type: "1", linkname: "pkg/lib/a.txt" },
    { name: "pkg/lib/link", type: "2", linkname: "a.txt" },
    { name: "pkg/empty/", type: "5", mode: 0o700 },
    { name: "pkg/zero", data: "" },
  ]);

  test("modes, empty files and folders, symlinks, hard links as copies", async () => {
    expect(summary(await materialize(archive))).toEqual({
      "pkg/": "755",
      "pkg/empty/": "700",
      "pkg/bin/run": "755 run",
      "pkg/lib/a.txt": "644 a",
      "pkg/lib/b.txt": "644 a",
      "pkg/zero": "644 ",
      "pkg/lib/link": "-> a.txt",
    });
  });

  test("each member's bytes are handed over once and are nobody else's; hard-linked bytes are copied", async () => {
    // A host with adoptFile keeps the array it is given as the file's content. So an adopted array
    // must be nobody else's: no view into the caller's archive or a pool slab, no memory shared
    // with another file, given for one path only. Members of a tar.gz may be views into gunzip's
    // output (which nothing else holds); the others are whole arrays of their own. A hard link
    // shares its target's bytes, so both paths go through writeFile, which copies.
    const big = new Uint8Array(3 * MiB).map((_, i) => (i * 31) % 251);
    const archive2 = tar([
      { name: "a.txt", data: "a" },
      { name: "b.txt", type: "1", linkname: "a.txt" },
      { name: "big.bin", data: big },
      { name: "c.txt", data: "see" },
      { name: "empty", data: "" },
    ]);
    for (const [label, source] of [
      ["tar", archive2],
      ["tar.gz", gzip(archive2)],
      [
        "zip",
        zip([
          { name: "a.txt", data: "a" },
          { name: "big.bin", data: big },
          { name: "stored.txt", data: "kept as stored", method: 0 },
        ]),
      ],
    ] as const) {
      const adopted = new Map<string, Uint8Array>();
      const written = new Map<string, Uint8Array>();
      await ArtifactBundle(source).materialize({
        root: ROOT,
        writeFile: (path, bytes) => written.set(path.slice(ROOT.length + 1), bytes),
        adoptFile: (path, bytes) => adopted.set(path.slice(ROOT.length + 1), bytes),
        mkdir() {},
        symlink() {},
      });
      const arrays = [...adopted.values(), ...written.values()];
      for (const [path, bytes] of adopted) {
        expect(bytes.buffer, `${label} ${path}`).not.toBe(source.buffer);
        if (label !== "tar.gz") {
          expect(bytes.byteOffset, `${label} ${path}`).toBe(0);
          expect(bytes.byteLength, `${label} ${path}`).toBe(bytes.buffer.byteLength);
        }
        const overlapping = arrays.filter(
          (a) =>
            a.buffer === bytes.buffer &&
            a.byteOffset < bytes.byteOffset + Math.max(1, bytes.byteLength) &&
            bytes.byteOffset < a.byteOffset + Math.max(1, a.byteLength),
        );
        expect(overlapping.length, `${label} ${path}`).toBe(1);
        expect(overlapping[0] === bytes, `${label} ${path}`).toBe(true);
      }
      if (label === "zip") {
        expect([...adopted.keys()].sort()).toEqual(["a.txt", "big.bin", "stored.txt"]);
        expect(new TextDecoder().decode(adopted.get("stored.txt"))).toBe("kept as stored");
      } else {
        expect([...adopted.keys()].sort()).toEqual(["big.bin", "c.txt", "empty"]);
        expect([...written.keys()].sort()).toEqual(["a.txt", "b.txt"]);
        expect(written.get("a.txt")).toBe(written.get("b.txt"));
      }
      expect(Buffer.compare(adopted.get("big.bin") as Uint8Array, big), label).toBe(0);
    }
  });

  test("stripComponents drops leading segments; hard links still resolve by their archive name", async () => {
    const out = summary(await materialize(archive, { stripComponents: 1 }));
    expect(out["lib/b.txt"]).toBe("644 a");
    expect(out["bin/run"]).toBe("755 run");
    expect(Object.keys(out).some((k) => k.startsWith("pkg"))).toBe(false);
  });

  test("prefix mounts one directory of the archive", async () => {
    expect(summary(await materialize(archive, { prefix: "pkg/lib" }))).toEqual({
      "a.txt": "644 a",
      "b.txt": "644 a",
      link: "-> a.txt",
    });
  });

  test("a link leaving the prefix is refused like one leaving the archive", async () => {
    const t = tar([
      { name: "a/x", data: "x" },
      { name: "a/up", type: "2", linkname: "../b" },
      { name: "b", data: "b" },
    ]);
    expect((await refused(t, { prefix: "a" })).code).toBe("EINVAL");
    expect(summary(await materialize(t))).toMatchObject({ "a/up": "-> ../b" });
  });

  test("setuid and setgid bits are stripped by default and reported", async () => {
    const seen: MountDiagnostic[] = [];
    const calls = await materialize(tar([{ name: "su", data: "x", mode: 0o4755 }]), {
      onDiagnostic: (d) => seen.push(d),
    });
    expect(summary(calls)).toEqual({ su: "755 x" });
    expect(seen.map((d) => d.message)).toEqual([expect.stringContaining("setuid/setgid bits stripped")]);
  });

  test('specialFiles: "skip" and outsideLinks: "skip" leave those entries out and report them', async () => {
    const seen: MountDiagnostic[] = [];
    const t = tar([
      { name: "fifo", type: "6" },
      { name: "dev", type: "3" },
      { name: "out", type: "2", linkname: "../../etc" },
      { name: "in", type: "2", linkname: "ok.txt" },
      { name: "ok.txt", data: "ok" },
    ]);
    const calls = await materialize(t, {
      specialFiles: "skip",
      outsideLinks: "skip",
      onDiagnostic: (d) => seen.push(d),
    });
    expect(summary(calls)).toEqual({ "ok.txt": "644 ok", in: "-> ok.txt" });
    expect(seen.map((d) => d.key).sort()).toEqual(["dev", "fifo", "out"]);
  });

  test("the same tree from a zip, with unix modes", async () => {
    const z = zip([
      { name: "bin/", unixMode: 0o040755 },
      { name: "bin/run", data: "run", unixMode: 0o100755 },
      { name: "link", data: "bin/run", unixMode: 0o120777 },
      { name: "plain.txt", data: "no unix attributes" },
    ]);
    expect(summary(await materialize(z))).toEqual({
      "bin/": "755",
      "bin/run": "755 run",
      "plain.txt": "0 no unix attributes",
      link: "-> bin/run",
    });
  });
});

describe("zip entries above 1 MiB compressed stream through yauzl", () => {
  // xorshift32: incompressible, so the deflated entry stays above the 1 MiB threshold.
  const big = new Uint8Array(3 * MiB);
  let x = 2463534242;
  for (let i = 0; i < big.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    big[i] = x & 0xff;
  }

  test("bytes come back exactly", async () => {
    expect(deflateRawSync(big).length).toBeGreaterThan(MiB);
    const calls = await materialize(
      zip([
        { name: "big.bin", data: big },
        { name: "small.txt", data: "s" },
      ]),
    );
    const file = calls.find((c) => c.op === "writeFile" && c.path.endsWith("big.bin"));
    expect(file?.op === "writeFile" && Buffer.compare(file.bytes, big)).toBe(0);
  });

  test("a declared size that lies is caught by yauzl's validateEntrySizes → EIO", async () => {
    const z = zip([
      { name: "big.bin", data: big, central: { uncompressedSize: MiB }, local: { uncompressedSize: MiB } },
    ]);
    const error = await refused(z);
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/too many bytes|declared size lies/);
  });
});

describe("bombs are stopped while inflating", () => {
  test("tar.gz: the expansion ratio stops a 512 MiB bomb after about 16 MiB", async () => {
    const error = await refused(zeroBomb(512));
    expect(error.code).toBe("EDQUOT");
    const inflated = Number(/after ([\d,]+) bytes/.exec(error.message)?.[1]?.replaceAll(",", ""));
    expect(inflated).toBeGreaterThan(16 * MiB);
    expect(inflated).toBeLessThan(20 * MiB);
  });

  test("tar.gz: with the ratio raised, maxBytes refuses a member from its declared size, before inflating it", async () => {
    const error = await refused(zeroBomb(256, "big"), { maxExpansion: 1e9, maxBytes: 32 * MiB });
    expect(error.code).toBe("EDQUOT");
    expect(error.quota).toEqual({ limit: "maxBytes", max: 32 * MiB, observed: 256 * MiB });
  });

  test("zip: an entry lying about its size stops at declared + 1 byte", async () => {
    const z = zip([
      {
        name: "z",
        data: new Uint8Array(64 * MiB),
        central: { uncompressedSize: 100 },
        local: { uncompressedSize: 100 },
      },
    ]);
    const error = await refused(z);
    expect(error.code).toBe("EIO");
    expect(error.message).toContain("inflates to more than the declared 100 bytes");
  });

  test("a gzip that is not a tar inside is EIO, not a crash", async () => {
    expect((await refused(gzip(new TextEncoder().encode("just text, no tar")))).code).toBe("EIO");
  });
});

describe("sources", () => {
  let dir: string;
  let server: Server;
  let base: string;
  const bundle = tar([{ name: "hello.txt", data: "hello" }]);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ws-artifact-src-"));
    writeFileSync(join(dir, "b.tar"), bundle);
    server = createServer((req, res) => {
      if (req.url === "/b.tar") res.writeHead(200, { "content-length": bundle.length }).end(bundle);
      else if (req.url === "/moved") res.writeHead(302, { location: "/b.tar" }).end();
      else if (req.url === "/secret")
        res.writeHead(req.headers.authorization === "Bearer s3cr3t" ? 200 : 401).end(bundle);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  test("a host path, a file: URL, bytes, an http URL and a redirect give the same tree", async () => {
    for (const source of [
      join(dir, "b.tar"),
      new URL(`file://${join(dir, "b.tar")}`),
      bundle,
      `${base}/b.tar`,
      `${base}/moved`,
    ]) {
      expect(summary(await materialize(source))).toEqual({ "hello.txt": "644 hello" });
    }
  });

  test("sha256 is checked before reading; a mismatch names both digests", async () => {
    const digest = sha256Digest(bundle);
    expect(summary(await materialize(bundle, { sha256: digest }))).toEqual({ "hello.txt": "644 hello" });
    const error = await refused(`${base}/b.tar`, { sha256: "f".repeat(64) });
    expect(error.code).toBe("EIO");
    expect(error.message).toContain(`expected ${"f".repeat(64)}, got ${digest.slice(7)}`);
    expect(error.path).toBe(ROOT);
  });

  test("missing file ENOENT, HTTP 404 ENOENT, 401 EACCES; headers are sent and never appear in errors", async () => {
    expect((await refused(join(dir, "nope.tar"))).code).toBe("ENOENT");
    expect((await refused(`${base}/nope`)).code).toBe("ENOENT");
    expect((await refused(`${base}/secret`, { headers: { authorization: "Bearer wrong" } })).code).toBe(
      "EACCES",
    );
    expect(
      summary(await materialize(`${base}/secret`, { headers: { authorization: "Bearer s3cr3t" } })),
    ).toEqual({
      "hello.txt": "644 hello",
    });
    const error = await refused(`${base}/secret`, { headers: { authorization: "Bearer wrong" } });
    expect(`${error.message} ${String(error.stack)}`).not.toContain("wrong");
  });

  test("refreshMount reads the bundle again; a damaged bundle leaves the mounted tree as it was", async () => {
    const path = join(dir, "refresh.tar");
    writeFileSync(path, tar([{ name: "v.txt", data: "one" }]));
    const ws = new Workspace({ mounts: { [ROOT]: ArtifactBundle(path) } });
    try {
      const read = async () =>
        new TextDecoder().decode((await ws.fs.readFile(`${ROOT}/v.txt`)) as Uint8Array);
      expect(await read()).toBe("one");
      writeFileSync(path, tar([{ name: "v.txt", data: "two" }]));
      await ws.refreshMount(ROOT);
      expect(await read()).toBe("two");
      writeFileSync(path, tar([{ name: "../evil", data: "x" }]));
      await expect(ws.refreshMount(ROOT)).rejects.toMatchObject({ code: "EINVAL" });
      expect(await read()).toBe("two");
    } finally {
      await ws.close();
    }
  });

  test("maxArchiveBytes caps the download while it arrives, and a file before it is read", async () => {
    expect((await refused(`${base}/b.tar`, { maxArchiveBytes: 100 })).code).toBe("EIO");
    expect((await refused(join(dir, "b.tar"), { maxArchiveBytes: 100 })).code).toBe("EDQUOT");
  });
});
