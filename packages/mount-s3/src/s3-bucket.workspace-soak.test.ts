import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  S3Client,
} from "@aws-sdk/client-s3";
import type { LazyMount, Mount } from "@ws/core";
import { faultLayer } from "@ws/provider-kit/test";
import { type S3TestServer, startMoto } from "@ws/test-servers";
import { Workspace } from "@ws/workspace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Bucket } from "./index.js";

/**
 * Issue 9 item 13 (the workspace's proof, kept here because it needs moto and S3Bucket, and the
 * workspace package cannot depend on this one): random operations on a read-write S3 mount over a real moto server, with
 * transient faults injected on every kind of provider call, checked against a model during the
 * run and against the bucket after close(). `WS_SOAK_OPS` runs longer (default 10,000).
 */
const OPS = Number(process.env.WS_SOAK_OPS ?? 10_000);
const SEED = Number(process.env.WS_SOAK_SEED ?? 20261130);

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let server: S3TestServer;
let tmp: string;
let shm: string | undefined;

beforeAll(async () => {
  // A moto of its own: this load must not slow the other test files sharing the run's moto.
  server = await startMoto();
  tmp = await mkdtemp(join(tmpdir(), "ws-soak-"));
  shm = await mkdtemp("/dev/shm/ws-soak-").catch(() => undefined);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
  if (shm) await rm(shm, { recursive: true, force: true });
});

function client(): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
}

async function bucketContents(s3: S3Client, bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }),
    );
    for (const object of page.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }));
      out.set(object.Key!, await got.Body!.transformToString());
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

function diff(expected: Map<string, string>, actual: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of expected) {
    if (!actual.has(k)) out.push(`missing ${k}`);
    else if (actual.get(k) !== v)
      out.push(`different ${k}: ${JSON.stringify(actual.get(k))} ≠ ${JSON.stringify(v)}`);
  }
  for (const k of actual.keys()) if (!expected.has(k)) out.push(`extra ${k}`);
  return out;
}

describe("soak: random operations on a read-write S3 mount with faults (issue 9 item 13)", () => {
  it(`${OPS} operations, 0 divergences from the model, in the VFS and in the bucket after close()`, async () => {
    const bucket = `soak-${Date.now()}`;
    const s3 = client();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const random = rng(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    // Transient failures on about 4% of every kind of call (the retry layer's job), some latency.
    const faults = faultLayer([
      {
        op: ["put", "delete", "fetch", "list"],
        calls: () => random() < 0.04,
        error: { code: "EIO", transient: true },
      },
      { op: ["put", "fetch"], calls: () => random() < 0.02, latencyMs: 5 },
    ]);
    const mount = S3Bucket({
      bucket,
      mode: "read-write",
      writeBackMs: 50,
      clientConfig: {
        endpoint: server.endpoint,
        region: server.region,
        forcePathStyle: true,
        credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      },
    });
    // The journal's fsync is measured by the benchmark; here it sits in memory when it can, for speed.
    const journal = join(shm ?? tmp, "journal");
    // S3Bucket retries inside itself, and the workspace's retry layer stands down for a mount that
    // carries a retry layer already; the fault copy inherits that mark, so its injected faults
    // would reach nobody's retries. A plain delegating mount: the workspace's layer retries them.
    const f = faults(mount as Mount, { root: "/s3" }) as LazyMount;
    const faulted: LazyMount = {
      kind: f.kind,
      strategy: "lazy",
      writable: f.writable,
      options: f.options,
      rootType: "directory",
      list: () => f.list(),
      refresh: () => f.refresh!(),
      fetch: (p) => f.fetch(p),
      put: (p, b, o) => f.put!(p, b, o),
      delete: (p) => f.delete!(p),
      dispose: () => f.dispose?.(),
    };
    const ws = new Workspace({
      mounts: { "/s3": faulted },
      retry: { retries: 6, minDelayMs: 1, maxDelayMs: 5 },
      journal,
    });
    const errors: unknown[] = [];
    ws.on("conflict", (c) => errors.push(c));

    const dirs = ["a", "b", "a/x", "b/y", "c"];
    const files = ["f0.txt", "f1.txt", "f2.txt", "f3.txt"];
    const model = new Map<string, string>();
    const counts: Record<string, number> = {};
    const under = (dir: string): string[] => [...model.keys()].filter((k) => k.startsWith(`${dir}/`));
    const abs = (rel: string): string => `/s3/${rel}`;
    const parent = (rel: string): string => rel.slice(0, rel.lastIndexOf("/"));
    const vfsDivergences = async (): Promise<string[]> => {
      const actual = new Map<string, string>();
      const names = (await ws.fs.readdir("/s3", { recursive: true })) as string[];
      for (const name of names) {
        const st = await ws.fs.stat(abs(name));
        if (st.isFile()) actual.set(name, await ws.fs.readFile(abs(name), "utf8"));
      }
      return diff(model, actual);
    };
    const divergences: string[] = [];
    const freshDir = (): string | undefined => {
      const candidates = dirs.filter((d) => under(d).length === 0);
      return candidates.length > 0 ? pick(candidates) : undefined;
    };

    const ms: Record<string, number> = {};
    for (let i = 0; i < OPS; i++) {
      const started = performance.now();
      const r = random();
      const dir = pick(dirs);
      const rel = `${dir}/${pick(files)}`;
      let op: string;
      if (r < 0.36) {
        op = "write";
        const body = `w${i}`;
        await ws.fs.mkdir(abs(dir), { recursive: true });
        await ws.fs.writeFile(abs(rel), body);
        model.set(rel, body);
      } else if (r < 0.53) {
        op = "append";
        await ws.fs.mkdir(abs(dir), { recursive: true });
        await ws.fs.appendFile(abs(rel), `+${i}`);
        model.set(rel, (model.get(rel) ?? "") + `+${i}`);
      } else if (r < 0.65) {
        op = "rm";
        await ws.fs.rm(abs(rel), { force: true });
        model.delete(rel);
      } else if (r < 0.78) {
        op = "rename-file";
        const src = [...model.keys()];
        if (src.length === 0) continue;
        const from = pick(src);
        const to = `${pick(dirs)}/${pick(files)}`;
        if (to === from || to.startsWith(`${from}/`)) continue;
        await ws.fs.mkdir(abs(parent(to)), { recursive: true });
        await ws.fs.rename(abs(from), abs(to));
        model.set(to, model.get(from)!);
        model.delete(from);
      } else if (r < 0.83) {
        op = "rename-dir";
        const from = pick(["a/x", "b/y", "c"]);
        const to = freshDir();
        if (!to || to === from || to.startsWith(`${from}/`) || from.startsWith(`${to}/`)) continue;
        if (!(await ws.fs.exists(abs(from)))) continue;
        // The destination must not exist (or be an empty folder): remove an empty one first.
        await ws.fs.rm(abs(to), { recursive: true, force: true });
        await ws.fs.mkdir(abs(parent(to) || "."), { recursive: true }).catch(() => undefined);
        await ws.fs.rename(abs(from), abs(to));
        for (const key of under(from)) {
          model.set(`${to}${key.slice(from.length)}`, model.get(key)!);
          model.delete(key);
        }
        // Subfolders moved with it: a/x under a moves when a moves (not chosen here), nothing else.
      } else if (r < 0.88) {
        op = "mkdir";
        await ws.fs.mkdir(abs(dir), { recursive: true });
      } else if (r < 0.97) {
        op = "rm-r";
        await ws.fs.rm(abs(dir), { recursive: true, force: true });
        for (const key of under(dir)) model.delete(key);
      } else if (r < 0.99) {
        op = "refresh";
        await ws.refreshMount("/s3");
      } else {
        op = "flush";
        await ws.flushMounts();
      }
      counts[op] = (counts[op] ?? 0) + 1;
      ms[op] = Math.round((ms[op] ?? 0) + performance.now() - started);
      if (i % 2500 === 2499) {
        const found = await vfsDivergences();
        divergences.push(...found.map((d) => `after op ${i}: ${d}`));
      }
    }
    divergences.push(...(await vfsDivergences()).map((d) => `at the end: ${d}`));
    await ws.close();
    const inBucket = await bucketContents(s3, bucket);
    divergences.push(...diff(model, inBucket).map((d) => `bucket: ${d}`));
    s3.destroy();
    const report = {
      ops: OPS,
      seed: SEED,
      counts,
      ms,
      faults: faults.injected,
      files: model.size,
      retries: ws.stats.retries,
    };
    console.log(`soak: ${JSON.stringify(report)}`);
    expect(divergences).toEqual([]);
    expect(errors).toEqual([]);
    expect(faults.injected).toBeGreaterThan(0);
    // Every acknowledged write left the journal.
    expect((await readdir(journal)).filter((name) => name.endsWith(".rec"))).toEqual([]);
  }, 600_000);
});
