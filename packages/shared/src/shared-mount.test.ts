import { MountError } from "@ws/core";
import { R2Bucket } from "@ws/mount-r2";
import { S3Bucket } from "@ws/mount-s3";
import {
  type MiniflareR2Server,
  type PostgresTestServer,
  startMiniflareR2,
  startPostgres,
} from "@ws/test-servers";
import { Workspace } from "@ws/workspace";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createBucket, openShared, s3ClientConfig } from "../test/env.js";
import { PostgresMetadata } from "./postgres-metadata.js";
import { SharedMount, type SharedMountInstance } from "./shared-mount.js";

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return MountError.isInstance(error) ? error.code : `not a MountError: ${String(error)}`;
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe("tier 1 on Miniflare's R2 binding, four mounts in one process (src/bucket-log.r2.multiprocess.test.ts runs them as processes)", () => {
  let server: MiniflareR2Server;
  let binding: Parameters<typeof R2Bucket>[0];
  const mounts: SharedMountInstance[] = [];
  const open = (writer: string): SharedMountInstance => {
    const m = SharedMount(R2Bucket(binding, { mode: "read-write" }), {
      mode: "read-write",
      pollMs: 20,
      writer,
      reconcileMs: 0,
    });
    mounts.push(m);
    return m;
  };
  beforeAll(async () => {
    server = await startMiniflareR2({ buckets: ["BUCKET"] });
    binding = await server.bucket("BUCKET");
  });
  afterAll(async () => {
    for (const m of mounts) await m.dispose();
    await server?.stop();
  });

  it("one file per writer, an atomic folder publish, conflicts and fenced locks", async () => {
    const [a, b, c, d] = ["a", "b", "c", "d"].map(open) as [
      SharedMountInstance,
      SharedMountInstance,
      SharedMountInstance,
      SharedMountInstance,
    ];
    await Promise.all([a, b, c, d].map((m) => m.ready()));
    await Promise.all(
      [a, b, c].map((m, i) => m.commit([{ op: "put", path: `agent-${i}/out.txt`, bytes: `from ${i}` }])),
    );
    await until("every file on d", () => d.entries().length === 3);
    expect(text(await d.fetch("agent-2/out.txt"))).toBe("from 2");

    const files = Array.from({ length: 50 }, (_, i) => ({
      op: "put" as const,
      path: `.tmp/part-${i}`,
      bytes: `p${i}`,
    }));
    await a.commit(files);
    const partial: number[] = [];
    const stop = d.watch!(() => {
      const n = d.entries().filter((e) => e.path.startsWith("pub/")).length;
      if (n !== 0 && n !== 50) partial.push(n);
    });
    await a.rename(".tmp", "pub");
    await until("the publish on d", () => d.entries().filter((e) => e.path.startsWith("pub/")).length === 50);
    stop();
    expect(partial).toEqual([]);
    expect(d.entries().some((e) => e.path.startsWith(".tmp/"))).toBe(false);

    // Both directions of R2's etag conditions (Miniflare once had them reversed).
    const etag = a.versionOf("agent-0/out.txt")!;
    await until("b knows agent-0", () => b.versionOf("agent-0/out.txt") === etag);
    expect(
      await codeOf(b.commit([{ op: "put", path: "agent-0/out.txt", bytes: "x", ifMatch: '"nope"' }])),
    ).toBe("ESTALE");
    const results = await Promise.allSettled([
      a.commit([{ op: "put", path: "agent-0/out.txt", bytes: "A", ifMatch: etag }]),
      b.commit([{ op: "put", path: "agent-0/out.txt", bytes: "B", ifMatch: etag }]),
    ]);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);

    const first = await a.lock("job", { ttlMs: 5000, renew: false });
    expect(await codeOf(b.lock("job", { ttlMs: 1000, waitMs: 0 }))).toBe("EBUSY");
    await sleep(first.expiresAt - Date.now() + 50);
    const second = await b.lock("job", { ttlMs: 5000 });
    expect(second.token).toBeGreaterThan(first.token);
    expect(await codeOf(a.commit([{ op: "put", path: "job.txt", bytes: "late" }], { lock: first }))).toBe(
      "ESTALE",
    );
    await b.commit([{ op: "put", path: "job.txt", bytes: "ok" }], { lock: second });
    await second.release();
    const third = await c.lock("job", { ttlMs: 1000, waitMs: 0 });
    expect(third.token).toBe(second.token + 1);
    await third.release();
  });
});

describe("tier 1 on OpenStack Swift (no conditional writes)", () => {
  it("reads, but every commit and lock fails ENOTSUP, by name", async () => {
    const { swift } = inject("shared");
    const bucket = await createBucket(swift, "swift");
    const inner = S3Bucket({ bucket, clientConfig: s3ClientConfig(swift), mode: "read-write" });
    const shared = SharedMount(inner, { mode: "read-write", pollMs: 50 });
    try {
      expect(await shared.list()).toEqual([]);
      const commit = shared.commit([{ op: "put", path: "a.txt", bytes: "a" }]);
      await expect(commit).rejects.toThrow(/ENOTSUP: .*conditional writes/);
      await expect(shared.lock("x", { ttlMs: 1000 })).rejects.toThrow(/ENOTSUP: .*conditional writes/);
      expect(await shared.list()).toEqual([]);
    } finally {
      await shared.dispose();
    }
  });
});

describe("input checks", () => {
  it("refuses the protocol folder, bad lock names, and writes on a read-only mount", async () => {
    const { moto } = inject("shared");
    const bucket = await createBucket(moto, "checks");
    const rw = openShared({ tier: 1, s3: moto, bucket });
    const ro = openShared({ tier: 1, s3: moto, bucket, readOnly: true });
    try {
      expect(await codeOf(rw.commit([{ op: "put", path: ".ws/log/000000000001.json", bytes: "{}" }]))).toBe(
        "EACCES",
      );
      expect(await codeOf(rw.commit([{ op: "put", path: "../x", bytes: "" }]))).toBe("EINVAL");
      expect(await codeOf(rw.lock("a/b", { ttlMs: 1000 }))).toBe("EINVAL");
      expect(await codeOf(ro.put("x.txt", new Uint8Array(1)))).toBe("EROFS");
      expect(await codeOf(ro.lock("l"))).toBe("EROFS");
      expect(await codeOf(rw.rename("missing", "there"))).toBe("ENOENT");
      // Tier 1 plans each op against the tree before the commit: one path, one op.
      expect(
        await codeOf(
          rw.commit([
            { op: "put", path: ".tmp/a", bytes: "x" },
            { op: "rename", from: ".tmp", to: "pub" },
          ]),
        ),
      ).toBe("EINVAL");
      expect(
        await codeOf(
          rw.commit([
            { op: "put", path: "a.txt", bytes: "1" },
            { op: "put", path: "a.txt", bytes: "2" },
          ]),
        ),
      ).toBe("EINVAL");
      expect(rw.entries()).toEqual([]);
    } finally {
      await rw.dispose();
      await ro.dispose();
    }
  });
});

describe("a Workspace applies the change feed by itself", () => {
  it("sees another process's commits in readdir and readFile without refreshMount, and publishes its own", async () => {
    const { moto } = inject("shared");
    const bucket = await createBucket(moto, "ws");
    const other = openShared({ tier: 1, s3: moto, bucket, pollMs: 30 });
    const mine = openShared({ tier: 1, s3: moto, bucket, pollMs: 30 });
    const ws = new Workspace({ mounts: { "/shared": mine } });
    try {
      expect(await ws.fs.readdir("/shared")).toEqual([]);
      await other.commit([{ op: "put", path: "notes/a.md", bytes: "v1" }]);
      await until("a.md in the workspace", async () => (await ws.fs.exists("/shared/notes/a.md")) === true);
      expect(await ws.fs.readFile("/shared/notes/a.md", "utf8")).toBe("v1");
      await other.commit([{ op: "put", path: "notes/a.md", bytes: "version 2" }]);
      await until(
        "the new bytes",
        async () => (await ws.fs.readFile("/shared/notes/a.md", "utf8")) === "version 2",
      );
      await other.commit([{ op: "delete", path: "notes/a.md" }]);
      await until("the delete", async () => (await ws.fs.exists("/shared/notes/a.md")) === false);
      await ws.fs.writeFile("/shared/from-ws.txt", "hello");
      await ws.flushMounts();
      await until("other sees the workspace's write", () =>
        other.entries().some((e) => e.path === "from-ws.txt"),
      );
      expect(text(await other.fetch("from-ws.txt"))).toBe("hello");
    } finally {
      await ws.close();
      await other.dispose();
    }
  });
});

describe.each([1, 2] as const)("tier %i: a small file's bytes travel with its change", (tier) => {
  it("the next read needs no request; a bigger version is read from the bucket, never an old one", async () => {
    const { moto, postgres } = inject("shared");
    const bucket = await createBucket(moto, `inline${tier}`);
    const config = {
      tier,
      s3: moto,
      bucket,
      pollMs: 30,
      ...(tier === 2 ? { postgres, table: `inline_${Math.random().toString(16).slice(2, 8)}` } : {}),
    };
    const writer = openShared(config);
    const reader = openShared(config);
    try {
      await Promise.all([writer.ready(), reader.ready()]);
      const queries = reader.stats.queries;
      const big = new Uint8Array(5000).fill(7);
      await writer.commit([
        { op: "put", path: "small.txt", bytes: "small" },
        { op: "put", path: "big.bin", bytes: big },
      ]);
      await until("both on the reader", () => reader.entries().length === 2);
      // Tier 2: the notification carried the entry; the reader sent no query for it.
      if (tier === 2) expect(reader.stats.queries).toBe(queries);
      const first = await reader.fetch("small.txt");
      expect(text(first)).toBe("small");
      expect(reader.stats.inlineReads).toBe(1);
      first.fill(0); // the caller's copy
      expect(text(await reader.fetch("small.txt"))).toBe("small");
      expect(await reader.fetch("big.bin")).toEqual(big);
      expect(reader.stats.inlineReads).toBe(2);
      // A reader that starts later: tier 1 replays the log, whose entry carries the bytes; tier 2
      // loads the tree from the database and GETs the object.
      const fresh = openShared(config);
      expect(text(await fresh.fetch("small.txt"))).toBe("small");
      expect(fresh.stats.inlineReads).toBe(tier === 1 ? 1 : 0);
      await fresh.dispose();
      if (tier === 1) {
        // Keys stay one-to-one with files: other tools read the bytes at the path.
        const raw = S3Bucket({ bucket, clientConfig: s3ClientConfig(moto) });
        expect(text(await raw.fetch("small.txt"))).toBe("small");
      }
      // A rename keeps them; a bigger version replaces them; a small one brings its own.
      await writer.rename("small.txt", "moved.txt");
      await until("the rename", () => reader.entries().some((e) => e.path === "moved.txt"));
      expect(text(await reader.fetch("moved.txt"))).toBe("small");
      expect(reader.stats.inlineReads).toBe(3);
      const bigger = new Uint8Array(6000).fill(9);
      await writer.commit([{ op: "put", path: "moved.txt", bytes: bigger }]);
      await until(
        "the bigger version",
        () => reader.entries().find((e) => e.path === "moved.txt")?.size === 6000,
      );
      expect(await reader.fetch("moved.txt")).toEqual(bigger);
      expect(reader.stats.inlineReads).toBe(3);
      await writer.commit([{ op: "put", path: "moved.txt", bytes: "v3" }]);
      await until("v3", () => reader.entries().find((e) => e.path === "moved.txt")?.size === 2);
      expect(text(await reader.fetch("moved.txt"))).toBe("v3");
      expect(reader.stats.inlineReads).toBe(4);
    } finally {
      await writer.dispose();
      await reader.dispose();
    }
  });
});

describe("tier 2: the database goes away and comes back", () => {
  let pg: PostgresTestServer;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it("says so clearly, loses no acknowledged write, and readers re-listen and catch up", async () => {
    const { moto } = inject("shared");
    const bucket = await createBucket(moto, "outage");
    const config = { tier: 2 as const, s3: moto, bucket, postgres: pg.info(), table: "outage" };
    const writer = openShared(config);
    const reader = openShared(config);
    try {
      await reader.ready();
      await writer.commit([{ op: "put", path: "kept.txt", bytes: "acknowledged" }]);
      await until("reader sees kept.txt", () => reader.entries().length === 1);
      await pg.halt();
      const down = writer.commit([{ op: "put", path: "lost.txt", bytes: "x" }]);
      await expect(down).rejects.toThrow(
        /EIO: .*PostgreSQL metadata database at 127\.0\.0\.1:\d+ is unreachable/,
      );
      await pg.resume();
      const fresh = openShared(config);
      expect((await fresh.list()).map((e) => e.path)).toEqual(["kept.txt"]);
      expect(text(await fresh.fetch("kept.txt"))).toBe("acknowledged");
      await fresh.dispose();
      // The reader lost its LISTEN connection: it re-listens, then re-reads, with no call from anyone.
      await until(
        "the writer works again",
        async () =>
          writer.commit([{ op: "put", path: "after.txt", bytes: "back" }]).then(
            () => true,
            () => false,
          ),
        20_000,
      );
      await until(
        "reader sees after.txt",
        () => reader.entries().some((e) => e.path === "after.txt"),
        20_000,
      );
    } finally {
      await writer.dispose();
      await reader.dispose();
    }
  });

  it("an unreachable database fails start-up with a clear error", async () => {
    const { moto } = inject("shared");
    const bucket = await createBucket(moto, "nodb");
    const inner = S3Bucket({ bucket, clientConfig: s3ClientConfig(moto), mode: "read-write" });
    const shared = SharedMount(inner, {
      mode: "read-write",
      metadata: PostgresMetadata({
        connectionString: "postgres://ws@127.0.0.1:1/postgres",
        connectTimeoutMs: 2000,
      }),
    });
    await expect(shared.list()).rejects.toThrow(/EIO: .*127\.0\.0\.1:1 is unreachable/);
    await shared.dispose();
  });
});
