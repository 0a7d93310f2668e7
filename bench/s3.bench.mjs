// S3Bucket through a Workspace vs rclone, the aws CLI and a raw AWS SDK loop (the ceiling), all
// against one moto server started here. Run by `npm run bench` (built packages, node --expose-gc).
//
//   index:      list 20,000 keys (4 KiB each)
//   cold read:  read all 20,000 of them
//   large read: one 256 MiB object
//   memory:     peak RSS of one process per read (s3-memory.mjs): the 256 MiB object through
//               readFile (with and without a content budget) and a stream vs rclone copy and
//               rclone cat; a bucket 8x a budget read end to end with the budget and without
//
// moto (single-process Python) is the bottleneck of every small-object number, so the clients are
// compared with each other as ratios, and client CPU seconds are reported beside wall time.
// Scale down for a quick try: BENCH_S3_KEYS=2000 BENCH_S3_LARGE_MIB=64 npm run bench -- s3
// Only the memory rows: BENCH_S3_PHASES=memory (BENCH_S3_BUDGET_MIB sets the budget, default 32).
// Only the listing rows (client CPU vs rclone lsf, bytes per stub; s3-index.mjs): BENCH_S3_PHASES=index.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { S3Bucket } from "@ws/mount-s3";
import { findExecutable, rcloneS3Env, s3ClientSettings, startMoto } from "@ws/test-servers";
import { Workspace } from "@ws/workspace";
import { indexRows } from "./s3-index.mjs";
import { memoryRows } from "./s3-memory.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const MiB = 1024 * 1024;
const KEYS = Number(process.env["BENCH_S3_KEYS"] ?? 20_000);
const SMALL_SIZE = 4096;
const LARGE_SIZE = Number(process.env["BENCH_S3_LARGE_MIB"] ?? 256) * MiB;
const CONCURRENCY = 16; // every client, for small objects
const LARGE_RUNS = 3; // reads of the large object per client; the median is reported
const STREAMS = 4; // parallel streams for the large object (rclone's default multi-thread streams)
const FOLDERS = 20;

for (const tool of ["rclone", "aws", "/usr/bin/time"]) {
  if (!(await findExecutable(tool))) {
    console.error(`${tool} is missing: apt-get install -y rclone time; awscli is preinstalled here`);
    process.exit(1);
  }
}

const gc = globalThis.gc ?? (() => {});
const moto = await startMoto();
const work = await mkdtemp(join(tmpdir(), "ws-s3-bench-"));
const clientConfig = s3ClientSettings(moto);

// The ceiling: the SDK with the same keep-alive pool S3Bucket builds for itself.
function rawClient() {
  return new S3Client({
    ...clientConfig,
    requestHandler: new NodeHttpHandler({
      httpAgent: { keepAlive: true, maxSockets: Math.max(CONCURRENCY * 2, 32) },
      connectionTimeout: 10_000,
      socketTimeout: 60_000,
    }),
  });
}

async function pool(items, limit, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** Wall and CPU of an in-process step. */
async function inProcess(fn) {
  gc();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const detail = await fn();
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1e6, detail };
}

/** Wall and CPU (user + sys of the tool and its children) of a command, via GNU time. */
async function external(command, args, env = process.env) {
  const timing = join(work, "time.txt");
  const start = performance.now();
  const { stdout } = await run("/usr/bin/time", ["-f", "%U %S", "-o", timing, command, ...args], {
    env,
    maxBuffer: 256 * MiB,
    timeout: 600_000,
  });
  const wall = (performance.now() - start) / 1000;
  const [user, sys] = (await import("node:fs"))
    .readFileSync(timing, "utf8")
    .trim()
    .split(/\s+/)
    .slice(-2)
    .map(Number);
  return { wall, cpu: user + sys, detail: stdout };
}

const rcloneEnv = rcloneS3Env(moto);

const awsConfig = join(work, "aws-config");
await writeFile(
  awsConfig,
  `[default]\nregion = ${moto.region}\ns3 =\n    max_concurrent_requests = ${CONCURRENCY}\n    multipart_chunksize = ${Math.ceil(LARGE_SIZE / STREAMS / MiB)}MB\n`,
);
const awsEnv = {
  ...process.env,
  AWS_CONFIG_FILE: awsConfig,
  AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  AWS_ACCESS_KEY_ID: moto.accessKeyId,
  AWS_SECRET_ACCESS_KEY: moto.secretAccessKey,
};
const aws = (...args) => external("aws", [...args, "--endpoint-url", moto.endpoint], awsEnv);

/** The 256 MiB object, written through S3Bucket (multipart), as every row reads it. */
async function seedLarge() {
  const seeder = rawClient();
  await seeder.send(new CreateBucketCommand({ Bucket: "large" }));
  seeder.destroy();
  const t = performance.now();
  // In a function, so the 256 MiB source is garbage by the time the large reads are measured.
  const writer = S3Bucket({ bucket: "large", mode: "read-write", clientConfig });
  const large = new Uint8Array(LARGE_SIZE);
  for (let i = 0; i < large.length; i += 4096) large[i] = i & 0xff;
  await writer.put("big.bin", large);
  await writer.dispose();
  console.log(
    `seeded ${LARGE_SIZE / MiB} MiB (multipart) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
}

const memoryOptions = { moto, rcloneEnv, largeBucket: "large", largeKey: "big.bin", largeSize: LARGE_SIZE };
async function saveMemory(memory) {
  await mkdir(join(here, "results"), { recursive: true });
  await writeFile(
    join(here, "results", "s3-memory.json"),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, server: "moto", largeObjectBytes: LARGE_SIZE, ...memory }, null, 2)}\n`,
  );
}
if (process.env["BENCH_S3_PHASES"] === "memory") {
  try {
    await saveMemory(await memoryRows({ ...memoryOptions, seedLarge }));
  } finally {
    await moto.stop();
    await rm(work, { recursive: true, force: true });
  }
  process.exit(0);
}

/** The small objects every index and cold-read row reads, listed once unmeasured. */
async function seedSmall() {
  const seeder = rawClient();
  await seeder.send(new CreateBucketCommand({ Bucket: "small" }));
  const keys = Array.from(
    { length: KEYS },
    (_, i) => `d${String(i % FOLDERS).padStart(2, "0")}/f${String(i).padStart(6, "0")}.bin`,
  );
  const body = new Uint8Array(SMALL_SIZE).fill(7);
  const t = performance.now();
  await pool(keys, 32, (Key) => seeder.send(new PutObjectCommand({ Bucket: "small", Key, Body: body })));
  console.log(`seeded ${KEYS} x ${SMALL_SIZE} B in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return { seeder, keys };
}

const indexOptions = {
  bucket: "small",
  keys: KEYS,
  folders: FOLDERS,
  clientConfig,
  rcloneEnv,
  work,
  concurrency: CONCURRENCY,
};
async function saveIndex(index) {
  await mkdir(join(here, "results"), { recursive: true });
  await writeFile(
    join(here, "results", "s3-index.json"),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, server: "moto", ...index }, null, 2)}\n`,
  );
}
if (process.env["BENCH_S3_PHASES"] === "index") {
  try {
    const { seeder } = await seedSmall();
    seeder.destroy();
    // Warm the SDK and the listing code, and moto's first listing after a bulk load (unmeasured).
    const warm = S3Bucket({ bucket: "small", clientConfig, concurrency: CONCURRENCY });
    expectCount("warm-up list", (await warm.list()).length, KEYS);
    await warm.dispose();
    await saveIndex(await indexRows(indexOptions));
  } finally {
    await moto.stop();
    await rm(work, { recursive: true, force: true });
  }
  process.exit(0);
}

const results = { index: {}, coldRead: {}, large: {} };
const lines = (text) => text.split("\n").filter((l) => l.trim() !== "").length;
function expectCount(label, got, want) {
  if (got !== want) throw new Error(`${label}: expected ${want}, got ${got}`);
}

try {
  // Seeding is not measured.
  const { seeder, keys } = await seedSmall();
  await seedLarge();

  // Warm the SDK's code paths (shared by S3Bucket and the raw loop) so neither in-process client
  // pays the JIT for the other; the CLI tools' process start-up is part of their numbers.
  const warm = S3Bucket({ bucket: "small", clientConfig, concurrency: CONCURRENCY });
  await Promise.all(keys.slice(0, 200).map((k) => warm.fetch(k)));
  // One full listing first, unmeasured: moto's first listing after a bulk load is slower, and
  // whichever client came first would pay for it.
  expectCount("warm-up list", (await warm.list()).length, KEYS);
  await warm.dispose();

  // ---- index -----------------------------------------------------------------------------------
  const mountOptions = { bucket: "small", clientConfig, concurrency: CONCURRENCY };
  let ws = new Workspace({ mounts: { "/b": S3Bucket(mountOptions) }, concurrency: CONCURRENCY });
  results.index.s3bucket = await inProcess(async () => {
    expectCount("S3Bucket index", (await ws.fs.readdir("/b")).length, FOLDERS);
  });
  const wsParallel = new Workspace({ mounts: { "/b": S3Bucket({ ...mountOptions, parallelList: true }) } });
  results.index.s3bucketParallel = await inProcess(async () => {
    expectCount("S3Bucket parallel index", (await wsParallel.fs.readdir("/b")).length, FOLDERS);
  });
  await wsParallel.close();
  const raw = rawClient();
  results.index.rawSdk = await inProcess(async () => {
    let count = 0;
    let token;
    do {
      const page = await raw.send(new ListObjectsV2Command({ Bucket: "small", ContinuationToken: token }));
      count += page.Contents?.length ?? 0;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    expectCount("raw SDK list", count, KEYS);
  });
  results.index.rclone = await external("rclone", ["lsf", "-R", "--files-only", "moto:small"], rcloneEnv);
  expectCount("rclone lsf", lines(results.index.rclone.detail), KEYS);
  results.index.aws = await aws("s3", "ls", "--recursive", "s3://small");
  expectCount("aws s3 ls", lines(results.index.aws.detail), KEYS);

  // ---- cold read of every small object --------------------------------------------------------
  results.coldRead.s3bucket = await inProcess(async () => {
    const r = await ws.prefetch("/b", { concurrency: CONCURRENCY });
    expectCount("S3Bucket prefetch bytes", ws.stats.bytesIn, KEYS * SMALL_SIZE);
    return r;
  });
  await ws.close();
  // The closed workspace still holds 20,000 hydrated files; drop it before the large reads.
  ws = undefined;
  results.coldRead.rawSdk = await inProcess(async () => {
    let bytes = 0;
    await pool(keys, CONCURRENCY, async (Key) => {
      const response = await raw.send(new GetObjectCommand({ Bucket: "small", Key }));
      const read = await response.Body.transformToByteArray();
      bytes += read.length; // not `bytes += await ...`: that reads `bytes` before the await
    });
    expectCount("raw SDK bytes", bytes, KEYS * SMALL_SIZE);
  });
  // The same through a Workspace, without response checksum validation (CRC32 of every body):
  // what that integrity check costs per object. Not the default.
  const wsNoChecksum = new Workspace({
    mounts: {
      "/b": S3Bucket({
        ...mountOptions,
        clientConfig: { ...clientConfig, responseChecksumValidation: "WHEN_REQUIRED" },
      }),
    },
    concurrency: CONCURRENCY,
  });
  await wsNoChecksum.fs.readdir("/b");
  results.coldRead.s3bucketNoChecksum = await inProcess(async () => {
    await wsNoChecksum.prefetch("/b", { concurrency: CONCURRENCY });
    expectCount("S3Bucket (no checksum) prefetch bytes", wsNoChecksum.stats.bytesIn, KEYS * SMALL_SIZE);
  });
  await wsNoChecksum.close();
  // The same through the SDK's GetObject (fastReads: false): what the fast read path saves.
  const wsSdkPath = new Workspace({
    mounts: { "/b": S3Bucket({ ...mountOptions, fastReads: false }) },
    concurrency: CONCURRENCY,
  });
  await wsSdkPath.fs.readdir("/b");
  results.coldRead.s3bucketSdkPath = await inProcess(async () => {
    await wsSdkPath.prefetch("/b", { concurrency: CONCURRENCY });
    expectCount("S3Bucket (SDK path) prefetch bytes", wsSdkPath.stats.bytesIn, KEYS * SMALL_SIZE);
  });
  await wsSdkPath.close();
  // The provider alone (no Workspace), to tell the provider's cost from the host's.
  const alone = S3Bucket(mountOptions);
  results.coldRead.s3bucketFetchOnly = await inProcess(async () => {
    let bytes = 0;
    await pool(keys, CONCURRENCY, async (key) => {
      const read = await alone.fetch(key);
      bytes += read.length;
    });
    expectCount("S3Bucket fetch bytes", bytes, KEYS * SMALL_SIZE);
  });
  await alone.dispose();
  const rcloneDir = join(work, "rclone-small");
  results.coldRead.rclone = await external(
    "rclone",
    [
      "copy",
      "moto:small",
      rcloneDir,
      "--transfers",
      String(CONCURRENCY),
      "--checkers",
      String(CONCURRENCY),
      "--fast-list",
      "--use-server-modtime",
    ],
    rcloneEnv,
  );
  await rm(rcloneDir, { recursive: true, force: true });
  const awsDir = join(work, "aws-small");
  results.coldRead.aws = await aws("s3", "sync", "s3://small", awsDir, "--only-show-errors");
  await rm(awsDir, { recursive: true, force: true });

  // ---- one large object -----------------------------------------------------------------------
  // One read of 256 MiB is at the mercy of a single GC pause or a busy neighbour: each client reads
  // it LARGE_RUNS times and the run with the median wall time is reported (all walls are kept).
  async function median(label, once) {
    const runs = [];
    for (let i = 0; i < LARGE_RUNS; i++) {
      runs.push(await once());
      gc();
    }
    const sorted = [...runs].sort((a, b) => a.wall - b.wall);
    const { detail: _detail, ...picked } = sorted[Math.floor(sorted.length / 2)];
    console.log(`large ${label}: ${runs.map((r) => r.wall.toFixed(2)).join(" / ")} s`);
    return { ...picked, walls: runs.map((r) => r.wall) };
  }

  results.large.s3bucket = await median("S3Bucket via Workspace", async () => {
    const ws = new Workspace({
      mounts: {
        "/l": S3Bucket({ bucket: "large", clientConfig, concurrency: CONCURRENCY, readStreams: STREAMS }),
      },
    });
    await ws.fs.readdir("/l"); // index first: only the read is measured
    const r = await inProcess(async () => {
      expectCount("S3Bucket large", (await ws.fs.readFile("/l/big.bin")).length, LARGE_SIZE);
    });
    await ws.close();
    return r;
  });
  const largeAlone = S3Bucket({
    bucket: "large",
    clientConfig,
    concurrency: CONCURRENCY,
    readStreams: STREAMS,
  });
  await largeAlone.list();
  results.large.s3bucketFetchOnly = await median("S3Bucket.fetch alone", () =>
    inProcess(async () => {
      expectCount("S3Bucket fetch large", (await largeAlone.fetch("big.bin")).length, LARGE_SIZE);
    }),
  );
  await largeAlone.dispose();
  results.large.rawSdkSingle = await median("raw SDK single GET", () =>
    inProcess(async () => {
      const response = await raw.send(new GetObjectCommand({ Bucket: "large", Key: "big.bin" }));
      expectCount("raw SDK large", (await response.Body.transformToByteArray()).length, LARGE_SIZE);
    }),
  );
  results.large.rawSdkRanged = await median("raw SDK ranged", () =>
    inProcess(async () => {
      const out = new Uint8Array(LARGE_SIZE);
      const part = Math.ceil(LARGE_SIZE / STREAMS);
      const starts = Array.from({ length: STREAMS }, (_, i) => i * part);
      await pool(starts, STREAMS, async (start) => {
        const end = Math.min(start + part, LARGE_SIZE) - 1;
        const response = await raw.send(
          new GetObjectCommand({ Bucket: "large", Key: "big.bin", Range: `bytes=${start}-${end}` }),
        );
        out.set(await response.Body.transformToByteArray(), start);
      });
    }),
  );
  const rcloneLarge = join(work, "rclone-large");
  results.large.rclone = await median("rclone copy (multi-thread)", async () => {
    const r = await external(
      "rclone",
      [
        "copy",
        "moto:large/big.bin",
        rcloneLarge,
        "--multi-thread-streams",
        String(STREAMS),
        "--multi-thread-cutoff",
        `${Math.floor(LARGE_SIZE / STREAMS / MiB)}M`,
      ],
      rcloneEnv,
    );
    await rm(rcloneLarge, { recursive: true, force: true });
    return r;
  });
  const awsLarge = join(work, "aws-large.bin");
  results.large.aws = await median("aws s3 cp", async () => {
    const r = await aws("s3", "cp", "s3://large/big.bin", awsLarge, "--only-show-errors");
    await rm(awsLarge, { force: true });
    return r;
  });
  raw.destroy();
  seeder.destroy();
  await saveMemory(await memoryRows(memoryOptions));
  await saveIndex(await indexRows(indexOptions));
} finally {
  await moto.stop();
  await rm(work, { recursive: true, force: true });
}

// ---- report ------------------------------------------------------------------------------------
const ratio = (a, b) => Number((a / b).toFixed(2));
const perObjectMs = (r) => Number(((r.cpu / KEYS) * 1000).toFixed(3));
const table = [];
for (const [phase, rows] of Object.entries(results)) {
  for (const [client, r] of Object.entries(rows)) {
    table.push({
      phase,
      client,
      "wall s": Number(r.wall.toFixed(2)),
      "client CPU s": Number(r.cpu.toFixed(2)),
    });
  }
}
console.table(table);
const { index, coldRead, large } = results;
const ratios = {
  "index wall: S3Bucket / rclone lsf -R (target <= 1)": ratio(index.s3bucket.wall, index.rclone.wall),
  "index wall: S3Bucket parallelList / rclone lsf -R": ratio(index.s3bucketParallel.wall, index.rclone.wall),
  "index wall: S3Bucket / aws s3 ls": ratio(index.s3bucket.wall, index.aws.wall),
  "index wall: S3Bucket / raw SDK": ratio(index.s3bucket.wall, index.rawSdk.wall),
  "cold read wall: S3Bucket / raw SDK (target <= 1.10)": ratio(coldRead.s3bucket.wall, coldRead.rawSdk.wall),
  "cold read wall: S3Bucket / rclone copy": ratio(coldRead.s3bucket.wall, coldRead.rclone.wall),
  "cold read wall: S3Bucket / aws s3 sync": ratio(coldRead.s3bucket.wall, coldRead.aws.wall),
  "cold read CPU per object: S3Bucket / rclone (target <= 1)": ratio(
    coldRead.s3bucket.cpu,
    coldRead.rclone.cpu,
  ),
  "cold read CPU per object: S3Bucket / raw SDK": ratio(coldRead.s3bucket.cpu, coldRead.rawSdk.cpu),
  "cold read CPU per object: S3Bucket without checksum validation / rclone": ratio(
    coldRead.s3bucketNoChecksum.cpu,
    coldRead.rclone.cpu,
  ),
  "cold read CPU per object: S3Bucket fastReads: false (SDK GetObject) / rclone": ratio(
    coldRead.s3bucketSdkPath.cpu,
    coldRead.rclone.cpu,
  ),
  "cold read wall: S3Bucket fastReads: false / raw SDK": ratio(
    coldRead.s3bucketSdkPath.wall,
    coldRead.rawSdk.wall,
  ),
  "cold read wall: S3Bucket.fetch alone / raw SDK": ratio(
    coldRead.s3bucketFetchOnly.wall,
    coldRead.rawSdk.wall,
  ),
  "cold read CPU per object: S3Bucket.fetch alone / rclone": ratio(
    coldRead.s3bucketFetchOnly.cpu,
    coldRead.rclone.cpu,
  ),
  "large wall: S3Bucket / rclone multi-thread copy (target <= 1)": ratio(
    large.s3bucket.wall,
    large.rclone.wall,
  ),
  "large wall: S3Bucket.fetch alone / rclone multi-thread copy": ratio(
    large.s3bucketFetchOnly.wall,
    large.rclone.wall,
  ),
  "large wall: S3Bucket / aws s3 cp": ratio(large.s3bucket.wall, large.aws.wall),
  "large wall: S3Bucket / raw SDK ranged": ratio(large.s3bucket.wall, large.rawSdkRanged.wall),
  "large wall: S3Bucket / raw SDK single GET": ratio(large.s3bucket.wall, large.rawSdkSingle.wall),
};
console.table(Object.entries(ratios).map(([ratio, value]) => ({ ratio, value })));
console.log(
  `client CPU per object, cold read (ms): S3Bucket ${perObjectMs(coldRead.s3bucket)}, S3Bucket fastReads: false ${perObjectMs(coldRead.s3bucketSdkPath)}, S3Bucket.fetch alone ${perObjectMs(coldRead.s3bucketFetchOnly)}, raw SDK ${perObjectMs(coldRead.rawSdk)}, ` +
    `rclone ${perObjectMs(coldRead.rclone)}, aws ${perObjectMs(coldRead.aws)}`,
);
const strip = (rows) =>
  Object.fromEntries(
    Object.entries(rows).map(([k, { wall, cpu }]) => [k, { wallSeconds: wall, cpuSeconds: cpu }]),
  );
await writeFile(
  join(here, "results", "s3.json"),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      server: "moto",
      keys: KEYS,
      smallObjectBytes: SMALL_SIZE,
      largeObjectBytes: LARGE_SIZE,
      concurrency: CONCURRENCY,
      largeStreams: STREAMS,
      results: { index: strip(index), coldRead: strip(coldRead), large: strip(large) },
      ratios,
    },
    null,
    2,
  )}\n`,
);
