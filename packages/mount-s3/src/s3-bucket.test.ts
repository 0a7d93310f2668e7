import { createHash, randomBytes } from "node:crypto";
import * as diagnostics from "node:diagnostics_channel";
import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { MountDiagnostic } from "@ws/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  backendClient,
  bucketName,
  clientConfig,
  codeOf,
  createBucket,
  getObject,
  listKeys,
  putObjects,
  SERVER_NAMES,
  serverInfo,
} from "../test/s3-env.js";
import { S3Bucket } from "./s3-bucket.js";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

describe.each(SERVER_NAMES)("S3Bucket on %s", (name) => {
  const info = serverInfo(name);
  let backend: S3Client;
  let bucket: string;
  const mounts: Array<{ dispose(): Promise<void> }> = [];
  const mountOf = (options: Omit<Parameters<typeof S3Bucket>[0], "bucket" | "clientConfig"> = {}) => {
    const mount = S3Bucket({ bucket, clientConfig: clientConfig(info), ...options });
    mounts.push(mount);
    return mount;
  };

  beforeAll(async () => {
    backend = backendClient(info);
    bucket = bucketName(`p-${name}`);
    await createBucket(backend, bucket);
  });
  afterAll(async () => {
    await Promise.all(mounts.map((m) => m.dispose()));
    backend?.destroy();
  });

  it("lists with the prefix stripped, skips folder markers and reports keys that cannot be paths", async () => {
    await putObjects(backend, bucket, {
      "basic/a.txt": "a",
      "basic/dir/b.txt": "bb",
      "basic/dir/": "",
      "basic/bad//double.txt": "x",
      "basic/x/./y.txt": "y",
      "basicfile.txt": "outside",
    });
    const diagnostics: MountDiagnostic[] = [];
    const mount = mountOf({ prefix: "/basic/", onDiagnostic: (d) => diagnostics.push(d) });
    const entries = await mount.list();
    expect(entries.map((e) => [e.path, e.size]).sort()).toEqual([
      ["a.txt", 1],
      ["dir/b.txt", 2],
    ]);
    expect(entries.every((e) => typeof e.mtime === "number" && typeof e.etag === "string")).toBe(true);
    expect(diagnostics.map((d) => d.key).sort()).toEqual(["bad//double.txt", "x/./y.txt"]);
    expect(new TextDecoder().decode(await mount.fetch("dir/b.txt"))).toBe("bb");
    expect(await codeOf(mount.fetch("missing.txt"))).toBe("ENOENT");
    expect(await codeOf(mount.fetch("../basicfile.txt"))).toBe("EINVAL");
  });

  it("lists keys with control characters, spaces, + and % intact (url-encoded listings), also in parallel", async () => {
    const names = ["ctl\u0001x.txt", "tab\tname", "a b+c%2F.txt", "d 1+%/x y.txt", "d 1+%/ü+.txt", "é/ü"];
    await putObjects(backend, bucket, Object.fromEntries(names.map((n) => [`enc/${n}`, n])));
    for (const parallelList of [false, true]) {
      const mount = mountOf({ prefix: "enc", parallelList });
      expect((await mount.list()).map((e) => e.path).sort()).toEqual([...names].sort());
      expect(new TextDecoder().decode(await mount.fetch("d 1+%/ü+.txt"))).toBe("d 1+%/ü+.txt");
    }
  });

  // Swift stores about 100 objects a second here: 1,200 keys still span two pages there.
  const many = name === "moto" ? 2500 : 1200;
  it(`lists ${many} keys across pages, sequentially and in parallel by top-level prefix`, async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < many; i++) files[`many/d${i % 5}/k${String(i).padStart(5, "0")}`] = text(String(i));
    files["many/top.txt"] = text("top");
    await putObjects(backend, bucket, files, 48);
    const expected = Object.keys(files)
      .map((k) => k.slice("many/".length))
      .sort();
    const sequential = await mountOf({ prefix: "many" }).list();
    expect(sequential.map((e) => e.path).sort()).toEqual(expected);
    const parallel = await mountOf({ prefix: "many", parallelList: true, concurrency: 4 }).list();
    expect(parallel.map((e) => e.path).sort()).toEqual(expected);
  });

  it("writes 64 MiB through multipart upload and reads it back by parallel ranged GETs (equal sha256)", async () => {
    const bytes = randomBytes(64 * 1024 * 1024);
    const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    const mount = mountOf({ prefix: "large", mode: "read-write", concurrency: 8 });
    await mount.put("blob.bin", data);
    const head = await mount.stat("blob.bin");
    // A multipart ETag ends in -<parts>: the upload really was multipart.
    expect(head?.etag).toMatch(/-\d+"?$/);
    // Both read paths: the fast one (signed here, sent by undici) and the SDK's.
    for (const fastReads of [true, false]) {
      const reader = mountOf({ prefix: "large", concurrency: 8, readStreams: 8, fastReads });
      const [entry] = await reader.list();
      expect(entry?.size).toBe(data.length);
      let ranged = 0;
      const countUndici = (message: unknown): void => {
        const headers = (message as { request: { headers: unknown } }).request.headers;
        if (/(^|[\r\n,])range\b/i.test(String(headers))) ranged++;
      };
      if (fastReads) {
        diagnostics.subscribe("undici:request:create", countUndici);
      } else {
        reader.client.middlewareStack.add(
          (next) => async (args) => {
            const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
            if (headers["range"]) ranged++;
            return next(args);
          },
          { step: "build", name: "countRanges" },
        );
      }
      try {
        const read = await reader.fetch("blob.bin");
        expect(read.byteOffset).toBe(0);
        expect(read.length).toBe(data.length);
        expect(read.buffer.byteLength).toBe(data.length);
        expect(sha256(read)).toBe(sha256(data));
      } finally {
        if (fastReads) diagnostics.unsubscribe("undici:request:create", countUndici);
      }
      expect(ranged).toBe(8);
    }
  });

  it("refuses writes on a read-only mount with EROFS and leaves the bucket untouched", async () => {
    await putObjects(backend, bucket, { "ro/keep.txt": "keep" });
    const mount = mountOf({ prefix: "ro" });
    expect(await codeOf(mount.put("keep.txt", text("changed")))).toBe("EROFS");
    expect(await codeOf(mount.delete("keep.txt"))).toBe("EROFS");
    expect(new TextDecoder().decode(await getObject(backend, bucket, "ro/keep.txt"))).toBe("keep");
  });

  it("puts, overwrites and deletes (a missing key deletes fine)", async () => {
    const mount = mountOf({ prefix: "rw", mode: "read-write" });
    await mount.put("a/b.txt", text("long content"));
    await mount.put("a/b.txt", text("short"));
    expect(new TextDecoder().decode(await getObject(backend, bucket, "rw/a/b.txt"))).toBe("short");
    await mount.delete("a/b.txt");
    await mount.delete("a/b.txt");
    await mount.delete("never/was.txt");
    expect(await listKeys(backend, bucket, "rw/")).toEqual([]);
  });

  if (info.quirks.conditionalPut) {
    it("answers conditional-write conflicts (412) with EEXIST and ESTALE, and honours a matching etag", async () => {
      const mount = mountOf({ prefix: "cond", mode: "read-write" });
      const { etag } = await mount.putObject("lock", text("one"), { ifNoneMatch: "*" });
      expect(etag).toBeTruthy();
      expect(await codeOf(mount.put("lock", text("two"), { ifNoneMatch: "*" }))).toBe("EEXIST");
      expect(
        await codeOf(mount.put("lock", text("two"), { ifMatch: '"0123456789abcdef0123456789abcdef"' })),
      ).toBe("ESTALE");
      expect(new TextDecoder().decode(await getObject(backend, bucket, "cond/lock"))).toBe("one");
      await mount.put("lock", text("three"), { ifMatch: etag! });
      expect(new TextDecoder().decode(await getObject(backend, bucket, "cond/lock"))).toBe("three");
      const listed = (await mount.list()).find((e) => e.path === "lock");
      await mount.put("lock", text("four"), { ifMatch: listed!.etag! });
      expect(new TextDecoder().decode(await getObject(backend, bucket, "cond/lock"))).toBe("four");
    });

    it("checks preconditions on objects above the multipart threshold too (one PutObject)", async () => {
      const mount = mountOf({
        prefix: "cond-large",
        mode: "read-write",
        multipartThreshold: 5 * 1024 * 1024,
      });
      const big = new Uint8Array(6 * 1024 * 1024).fill(1);
      await mount.put("big", big, { ifNoneMatch: "*" });
      expect(await codeOf(mount.put("big", big.fill(2), { ifNoneMatch: "*" }))).toBe("EEXIST");
      expect(await codeOf(mount.put("big", big, { ifMatch: '"0123456789abcdef0123456789abcdef"' }))).toBe(
        "ESTALE",
      );
      expect((await getObject(backend, bucket, "cond-large/big"))?.[0]).toBe(1);
    });
  } else {
    it("raises ENOTSUP for conditional writes the server cannot honour, and writes nothing", async () => {
      const mount = mountOf({ prefix: "cond", mode: "read-write" });
      expect(await codeOf(mount.put("new", text("x"), { ifNoneMatch: "*" }))).toBe("ENOTSUP");
      expect(await getObject(backend, bucket, "cond/new")).toBeUndefined();
      await mount.put("existing", text("one"));
      expect(await codeOf(mount.put("existing", text("two"), { ifMatch: '"abc"' }))).toBe("ENOTSUP");
      expect(new TextDecoder().decode(await getObject(backend, bucket, "cond/existing"))).toBe("one");
    });
  }

  it("fails ENOTSUP without a request when conditionalWrites is false", async () => {
    const mount = mountOf({ prefix: "cond-off", mode: "read-write", conditionalWrites: false });
    expect(await codeOf(mount.put("x", text("x"), { ifNoneMatch: "*" }))).toBe("ENOTSUP");
    expect(await getObject(backend, bucket, "cond-off/x")).toBeUndefined();
  });

  it("mounts a single object with rootType: file", async () => {
    await putObjects(backend, bucket, { "single/notes.md": "# notes", "single/other.md": "x" });
    const mount = mountOf({ prefix: "single/notes.md", rootType: "file", mode: "read-write" });
    const entries = await mount.list();
    expect(entries.map((e) => [e.path, e.size])).toEqual([["notes.md", 7]]);
    expect(new TextDecoder().decode(await mount.fetch("notes.md"))).toBe("# notes");
    await mount.put("notes.md", text("# changed"));
    expect(new TextDecoder().decode(await getObject(backend, bucket, "single/notes.md"))).toBe("# changed");
    expect(await mountOf({ prefix: "single/absent.md", rootType: "file" }).list()).toEqual([]);
  });

  it("keeps a folder's mode on its marker (s3fs's directory mode) and lists it back; folderModes: false skips the HEADs", async () => {
    const mount = mountOf({ prefix: "fm", mode: "read-write" });
    await mount.mkdir?.("private", { mode: 0o700 });
    await mount.mkdir?.("ro", { mode: 0o555 });
    await mount.mkdir?.("plain");
    await mount.put("ro/a.txt", text("a"));
    const head = await backend.send(new HeadObjectCommand({ Bucket: bucket, Key: "fm/private/" }));
    expect(head.Metadata?.["mode"]).toBe(String(0o040700));
    const listed = (await mount.list()).sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(listed.map((e) => [e.path, e.type ?? "file", e.mode])).toEqual([
      ["plain", "directory", undefined],
      ["private", "directory", 0o700],
      // A marker beside its folder's files is kept when it carries the folder's mode.
      ["ro", "directory", 0o555],
      ["ro/a.txt", "file", undefined],
    ]);
    const quick = mountOf({ prefix: "fm", folderModes: false });
    expect((await quick.list()).filter((e) => e.type === "directory").map((e) => [e.path, e.mode])).toEqual([
      ["plain", undefined],
      ["private", undefined],
    ]);
  });

  it("maps a missing bucket to ENOENT", async () => {
    const mount = S3Bucket({ bucket: bucketName("absent"), clientConfig: clientConfig(info) });
    mounts.push(mount);
    expect(await codeOf(mount.list())).toBe("ENOENT");
  });
});
