import type { S3Client } from "@aws-sdk/client-s3";
import { decodePosixMetadata } from "@ws/core";
import { Workspace } from "@ws/workspace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  backendClient,
  bucketName,
  clientConfig,
  createBucket,
  getObject,
  serverInfo,
} from "../test/s3-env.js";
import { S3Bucket, type S3BucketMount } from "./s3-bucket.js";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

// Issue 17 through a Workspace on moto: folders another writer made appear on refreshMount (with
// their modes); ws.fs.symlink under the mount stores the link verbatim and it comes back as one.
describe("S3Bucket in a Workspace on moto: refresh, folders and links", () => {
  const info = serverInfo("moto");
  let backend: S3Client;
  let bucket: string;
  const mounts: S3BucketMount[] = [];
  const mountOf = (prefix: string): S3BucketMount => {
    const mount = S3Bucket({ bucket, prefix, mode: "read-write", clientConfig: clientConfig(info) });
    mounts.push(mount);
    return mount;
  };

  beforeAll(async () => {
    backend = backendClient(info);
    bucket = bucketName("ws");
    await createBucket(backend, bucket);
  });
  afterAll(async () => {
    await Promise.all(mounts.map((m) => m.dispose()));
    backend?.destroy();
  });

  it("refreshMount creates the folders another writer made (markers, with their modes, and folders of new files)", async () => {
    const ws = new Workspace({ mounts: { "/m": mountOf("refresh") } });
    expect(await ws.fs.readdir("/m")).toEqual([]);
    const other = mountOf("refresh");
    await other.mkdir?.("new/empty", { mode: 0o700 });
    await other.mkdir?.("plain");
    await other.put("full/a.txt", text("a"));
    const result = await ws.refreshMount("/m");
    expect(result.added).toEqual(["/m/full/a.txt"]);
    expect(await ws.fs.readdir("/m")).toEqual(["full", "new", "plain"]);
    expect(await ws.fs.readdir("/m/new")).toEqual(["empty"]);
    expect((await ws.fs.stat("/m/new/empty")).mode & 0o7777).toBe(0o700);
    expect((await ws.fs.stat("/m/plain")).isDirectory()).toBe(true);
    await ws.close();
  });

  it("ws.fs.symlink under the mount is stored verbatim (s3fs's form) and comes back as a link", async () => {
    const ws = new Workspace({ mounts: { "/m": mountOf("links") } });
    await ws.fs.mkdir("/m/venv/bin", { recursive: true });
    await ws.fs.symlink("/usr/bin/python3", "/m/venv/bin/python");
    await ws.close();
    expect(new TextDecoder().decode(await getObject(backend, bucket, "links/venv/bin/python"))).toBe(
      "/usr/bin/python3",
    );
    const head = await mountOf("links").stat("venv/bin/python");
    expect(decodePosixMetadata(head?.meta).mode).toBe(0o120777);
    const ws2 = new Workspace({ mounts: { "/m": mountOf("links") } });
    expect(await ws2.fs.readlink("/m/venv/bin/python")).toBe("/usr/bin/python3");
    const back = await ws2.exec("sh", ["-c", "readlink m/venv/bin/python"], { hydrate: true });
    expect(back.stdout).toBe("/usr/bin/python3\n");
    await ws2.close();
  });
});
