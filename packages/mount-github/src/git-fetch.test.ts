import { createHash } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  commitTree,
  type GitHttpServer,
  git,
  initBareRepo,
  nativeCatBlobs,
  nativeLsTree,
  selfSignedCert,
  startGitHttp,
} from "../../test-servers/src/index.js";
import { type GitEnv, startGitEnv } from "../test/git-env.js";
import { TEST_TOKEN } from "../test/git-harness.js";
import { GitFetchClient, PackSink, type RemoteRef } from "./git-fetch.js";
import { GitTransport } from "./git-transport.js";
import { PackStore } from "./pack-store.js";

let env: GitEnv;
beforeAll(async () => {
  env = await startGitEnv({ token: TEST_TOKEN });
  // An annotated tag, so that resolving a tag must peel it to its commit.
  await git(["tag", "-a", "v1", "-m", "release v1", "main"], { cwd: env.repoDir("acme/edge") });
});
afterAll(() => env?.stop());

const basic = `Basic ${Buffer.from(`x-access-token:${TEST_TOKEN}`).toString("base64")}`;

async function clone(
  version: 0 | 2,
  ref: string | undefined,
  repo = "acme/edge",
): Promise<{ remote: RemoteRef | undefined; pack: Uint8Array | undefined }> {
  const url = `${env.http.url}/${repo}.git`;
  const t = new GitTransport({
    headers: { authorization: basic },
    maxBytes: 64 * 1024 * 1024,
    idleTimeoutMs: 20_000,
    displayUrl: url,
  });
  const client = new GitFetchClient(t.client, url, url, version);
  return t.run(
    (async () => {
      const remote = await client.resolve(ref);
      return { remote, pack: remote ? await client.fetchPack(remote.oid, 1, 64 * 1024 * 1024) : undefined };
    })(),
  );
}

const objectId = (type: string, bytes: Uint8Array): string =>
  createHash("sha1").update(`${type} ${bytes.length}\0`).update(bytes).digest("hex");

describe("the git client (smart HTTP) and the pack store, against git http-backend", () => {
  for (const version of [2, 0] as const) {
    it(`protocol v${version}: the pack of one commit holds every tree and blob native git has, byte for byte`, async () => {
      const before = env.http.requests.length;
      const { remote, pack } = await clone(version, undefined);
      const sent = env.http.requests.slice(before);
      expect(sent.every((r) => (version === 2 ? r.protocol === "version=2" : r.protocol === undefined))).toBe(
        true,
      );
      expect(remote).toMatchObject({ oid: env.edge.commit, ref: "HEAD", target: "refs/heads/main" });
      const store = PackStore.index(pack ?? new Uint8Array(0));
      expect(store.stat(env.edge.commit)?.type).toBe("commit");
      const dir = env.repoDir("acme/edge");
      const native = (await git(["ls-tree", "-r", "-t", "-z", "main"], { cwd: dir })).stdout
        .toString("utf8")
        .split("\0")
        .filter(Boolean)
        .map((line) => line.split(/\s+/));
      const blobs = await nativeCatBlobs(
        dir,
        native.filter((n) => n[1] === "blob").map((n) => n[2] ?? ""),
      );
      for (const [, type = "", oid = ""] of native) {
        if (type === "commit") continue; // the submodule's commit lives elsewhere
        const stat = store.stat(oid);
        expect(stat?.type, oid).toBe(type);
        const bytes = store.read(oid);
        expect(objectId(type, bytes)).toBe(oid);
        if (type === "blob") expect(Buffer.from(bytes).equals(blobs.get(oid) ?? Buffer.alloc(0))).toBe(true);
      }
      // Only the one commit: depth 1.
      expect(store.stat(env.edge.commit)).toBeDefined();
    });

    it(`protocol v${version}: a branch, an annotated tag (peeled to its commit), a missing ref`, async () => {
      expect((await clone(version, "main")).remote).toMatchObject({
        ref: "refs/heads/main",
        oid: env.edge.commit,
      });
      const tag = await clone(version, "v1");
      expect(tag.remote).toMatchObject({ ref: "refs/tags/v1", oid: env.edge.commit });
      expect(PackStore.index(tag.pack ?? new Uint8Array(0)).stat(env.edge.commit)?.type).toBe("commit");
      expect((await clone(version, "no-such-ref")).remote).toBeUndefined();
    });
  }

  it("a deeper clone holds the parent commit too (deepen)", async () => {
    const dir = env.repoDir("acme/deep");
    await initBareRepo(dir);
    const first = await commitTree(dir, { "a.txt": { type: "file", bytes: Buffer.from("one") } });
    await commitTree(dir, { "a.txt": { type: "file", bytes: Buffer.from("two") } });
    const url = `${env.http.url}/acme/deep.git`;
    const t = new GitTransport({
      headers: { authorization: basic },
      maxBytes: 1 << 24,
      idleTimeoutMs: 20_000,
      displayUrl: url,
    });
    const client = new GitFetchClient(t.client, url, url);
    const shallow = PackStore.index(
      await t.run(client.fetchPack((await client.resolve("main"))?.oid ?? "", 1, 1 << 24)),
    );
    expect(shallow.has(first)).toBe(false);
    const t2 = new GitTransport({
      headers: { authorization: basic },
      maxBytes: 1 << 24,
      idleTimeoutMs: 20_000,
      displayUrl: url,
    });
    const client2 = new GitFetchClient(t2.client, url, url);
    const deep = PackStore.index(
      await t2.run(client2.fetchPack((await client2.resolve("main"))?.oid ?? "", 2, 1 << 24)),
    );
    expect(deep.stat(first)?.type).toBe("commit");
  });

  it("deltas read back exactly through a delta-base cache far smaller than the pack, with either inflater", async () => {
    // Sixty similar files: git stores most of them as deltas, in chains. A cache of 32 KiB holds
    // about five of them, so the ring wraps and forgets bases all the time.
    const dir = env.repoDir("acme/deltas");
    await initBareRepo(dir);
    const base = Array.from({ length: 300 }, (_, i) => `line ${i} of a text that repeats itself\n`).join("");
    const files: Record<string, { type: "file"; bytes: Buffer }> = {};
    for (let i = 0; i < 60; i++) {
      files[`f${i}.txt`] = {
        type: "file",
        bytes: Buffer.from(`${base.slice(0, i * 97)}change ${i}\n${base.slice(i * 97)}`),
      };
    }
    await commitTree(dir, files);
    const { pack = new Uint8Array(0) } = await clone(2, undefined, "acme/deltas");
    const native = await nativeLsTree(dir, "main");
    const blobs = await nativeCatBlobs(
      dir,
      native.map((n) => n.sha),
    );
    for (const options of [{ cacheBytes: 32 * 1024 }, { cacheBytes: 32 * 1024, nativeInflate: false }, {}]) {
      const store = PackStore.index(pack, options);
      expect(store.deltas, JSON.stringify(options)).toBeGreaterThan(30);
      // Twice, in two orders: the second pass reads through whatever the first left in the ring.
      for (const order of [native, [...native].reverse()]) {
        for (const n of order) {
          expect(
            Buffer.from(store.readOwned(n.sha, "blob")).equals(blobs.get(n.sha) ?? Buffer.alloc(0)),
            n.path,
          ).toBe(true);
        }
      }
    }
  });

  it("the pack's index holds no JS object per git object (heap retained after a full GC)", async () => {
    const { pack = new Uint8Array(0) } = await clone(2, undefined);
    setFlagsFromString("--expose-gc");
    const collect = runInNewContext("gc") as () => void;
    const settle = async (): Promise<number> => {
      for (let i = 0; i < 3; i++) {
        collect();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return process.memoryUsage().heapUsed;
    };
    // Once first, so that the code's own compiled forms are on the heap before the baseline.
    PackStore.index(pack).trim();
    // The heap with a store held minus the heap once it is dropped; the least of three tries, as
    // whatever else the process does (the servers in it) moves the heap a little.
    let retained = Number.POSITIVE_INFINITY;
    let objects = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      let store: PackStore | undefined = PackStore.index(pack);
      store.trim();
      objects = store.size;
      expect(store.stat(env.edge.commit)?.type).toBe("commit");
      const held = await settle();
      store = undefined;
      retained = Math.min(retained, held - (await settle()));
    }
    expect(objects).toBeGreaterThan(1500);
    // A map of id strings to entry objects held about 150 bytes per object on the heap; typed
    // arrays hold theirs outside it.
    expect(retained).toBeLessThan(objects * 16);
  });

  it("the pack sink holds the bytes exactly, resizable or in blocks, and refuses more than its cap", () => {
    const bytes = new Uint8Array(3 * 1024 * 1024 + 12345);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    for (const resizable of [true, false]) {
      const sink = new PackSink(bytes.length, { resizable });
      for (let at = 0; at < bytes.length; ) {
        const n = Math.min(bytes.length - at, 1 + ((at * 7919) % 70000));
        sink.append(bytes.subarray(at, at + n), "test");
        at += n;
      }
      const out = sink.finish();
      expect(out.length).toBe(bytes.length);
      expect(Buffer.from(out).equals(Buffer.from(bytes)), `resizable: ${resizable}`).toBe(true);
      const small = new PackSink(10, { resizable });
      small.append(new Uint8Array(10), "test");
      expect(() => small.append(new Uint8Array(1), "test")).toThrow(
        expect.objectContaining({ code: "EDQUOT" }),
      );
    }
  });

  it("a damaged pack is refused whole with EIO: a flipped byte, a cut, a wrong trailer", async () => {
    const { pack = new Uint8Array(0) } = await clone(2, undefined);
    const flipped = pack.slice();
    flipped[flipped.length >> 1] = (flipped[flipped.length >> 1] ?? 0) ^ 0xff;
    const cut = pack.slice(0, pack.length - 100);
    const trailer = pack.slice();
    trailer[trailer.length - 1] = (trailer[trailer.length - 1] ?? 0) ^ 1;
    for (const bad of [flipped, cut, trailer, new Uint8Array(10)]) {
      expect(() => PackStore.index(bad)).toThrow(expect.objectContaining({ code: "EIO" }));
    }
    // The same bytes with a recomputed trailer: the checksum passes, the inflate or the size check does not.
    const resummed = flipped.slice();
    resummed.set(
      createHash("sha1")
        .update(resummed.subarray(0, resummed.length - 20))
        .digest(),
      resummed.length - 20,
    );
    let refused: unknown;
    try {
      const store = PackStore.index(resummed);
      // A flip that still inflates changes an object's id: the tree no longer finds it.
      const native = await nativeLsTree(env.repoDir("acme/edge"), "main");
      refused = native.some((n) => n.type === "blob" && !store.has(n.sha)) ? "missing" : undefined;
    } catch (error) {
      refused = (error as { code?: string }).code;
    }
    expect(["EIO", "missing"]).toContain(refused);
  });
});

describe("the pack read by the socket into the pack's own buffer: http and https, chunked and Content-Length", () => {
  let cert: { key: string; cert: string };
  const servers: Record<string, GitHttpServer> = {};
  beforeAll(async () => {
    cert = await selfSignedCert();
    for (const tls of [false, true]) {
      for (const framing of ["chunked", "content-length"] as const) {
        servers[`${tls ? "https" : "http"} ${framing}`] = await startGitHttp({
          projectRoot: env.projectRoot,
          token: TEST_TOKEN,
          framing,
          ...(tls ? { tls: cert } : {}),
        });
      }
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  });

  const transport = (server: GitHttpServer, maxBytes = 64 * 1024 * 1024) => {
    const url = `${server.url}/acme/edge.git`;
    const t = new GitTransport({
      headers: { authorization: basic },
      maxBytes,
      idleTimeoutMs: 20_000,
      displayUrl: url,
      tls: { ca: cert.cert },
    });
    return { t, client: new GitFetchClient(t.client, url, url) };
  };

  for (const name of ["http chunked", "http content-length", "https chunked", "https content-length"]) {
    it(`${name}: the pack is read in place, byte for byte the one node:http reads`, async () => {
      const server = servers[name] as GitHttpServer;
      const { t, client } = transport(server);
      const pack = await t.run(client.fetchPack(env.edge.commit, 1, 64 * 1024 * 1024));
      // The ref advertisement and the pack: node:http served nothing.
      expect(t.inPlace).toBe(2);
      // The same request through node:http only (no receive): the reference.
      const { t: t2 } = transport(server);
      const viaNodeHttp = new GitFetchClient(
        { request: t2.client.request },
        `${server.url}/acme/edge.git`,
        "x",
      );
      const reference = await t2.run(viaNodeHttp.fetchPack(env.edge.commit, 1, 64 * 1024 * 1024));
      expect(reference.length).toBeGreaterThan(1000);
      expect(Buffer.from(pack).equals(Buffer.from(reference))).toBe(true);
      expect(PackStore.index(pack).stat(env.edge.commit)?.type).toBe("commit");
    });

    it(`${name}: a server dying mid-pack is EIO; a pack over maxBytes is EDQUOT; neither shows the token`, async () => {
      const server = servers[name] as GitHttpServer;
      server.setFault({ kind: "die-mid-pack", afterBytes: 20_000 });
      try {
        const { t, client } = transport(server);
        const error = await t
          .run(client.fetchPack(env.edge.commit, 1, 64 * 1024 * 1024))
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ code: "EIO" });
        expect(String((error as Error).message)).not.toContain(TEST_TOKEN);
      } finally {
        server.setFault(undefined);
      }
      const { t, client } = transport(server, 30_000);
      const error = await t.run(client.fetchPack(env.edge.commit, 1, 30_000)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "EDQUOT" });
      expect(t.received).toBeLessThan(30_000 + 256 * 1024);
    });
  }

  it("a wrong token (401) on the pack request falls back to node:http, which reports it (no byte kept)", async () => {
    const server = servers["https chunked"] as GitHttpServer;
    const url = `${server.url}/acme/edge.git`;
    const good = transport(server);
    await good.t.run(good.client.resolve(undefined));
    const t = new GitTransport({
      headers: { authorization: `Basic ${Buffer.from("x:ghp_wrong").toString("base64")}` },
      maxBytes: 1 << 24,
      idleTimeoutMs: 20_000,
      displayUrl: url,
      tls: { ca: cert.cert },
    });
    const client = new GitFetchClient(t.client, url, url);
    const error = await t.run(client.fetchPack(env.edge.commit, 1, 1 << 24)).catch((e: unknown) => e);
    expect(error).toMatchObject({ data: { statusCode: 401 } });
    expect(t.inPlace).toBe(0);
  });

  it("an https server whose certificate is not trusted is refused", async () => {
    const server = servers["https chunked"] as GitHttpServer;
    const url = `${server.url}/acme/edge.git`;
    const t = new GitTransport({ headers: {}, maxBytes: 1 << 24, idleTimeoutMs: 20_000, displayUrl: url });
    const client = new GitFetchClient(t.client, url, url);
    await expect(t.run(client.fetchPack(env.edge.commit, 1, 1 << 24))).rejects.toMatchObject({
      code: expect.any(String),
    });
    expect(t.inPlace).toBe(0);
  });
});
