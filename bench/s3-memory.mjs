// The memory rows of s3.bench.mjs (issue 16): peak RSS and wall time of one process per read,
// measured by GNU time, against rclone doing the same on the same moto:
//
//   one object (BENCH_S3_MEMORY_MIB, default 256 MiB): readFile without a budget, readFile under a
//   budget (the object is larger than it: read through, not kept), a stream; rclone copy
//   (multi-thread, to disk) and rclone cat (a stream to /dev/null);
//   a bucket 8x a budget (BENCH_S3_BUDGET_MIB, default 32 MiB: 8 x 32 = 256 MiB in 4 MiB files)
//   read end to end through readFile, with the budget and without.
//
// Each child first indexes its mount; a "baseline" child that only indexes gives the RSS every
// row carries anyway (Node, the SDK, the listing), so the rows also show RSS above it.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { s3ClientSettings } from "@ws/test-servers";

const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const MiB = 1024 * 1024;

/** Wall seconds and peak RSS (MiB) of one command, via GNU time; stdout parsed as JSON when it is. */
async function measured(command, args, env) {
  const dir = await mkdtemp(join(tmpdir(), "ws-mem-"));
  const timing = join(dir, "time.txt");
  try {
    const { stdout } = await run("/usr/bin/time", ["-f", "%e %M", "-o", timing, command, ...args], {
      env,
      maxBuffer: 16 * MiB,
      timeout: 900_000,
    });
    const [wall, kib] = (await readFile(timing, "utf8")).trim().split(/\s+/).slice(-2).map(Number);
    let detail;
    try {
      detail = JSON.parse(stdout.trim().split("\n").at(-1));
    } catch {
      detail = undefined;
    }
    return { wall, rssMiB: Math.round(kib / 1024), detail, load: loadavg()[0].toFixed(2) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Seeds what it needs (the one object unless `largeBucket` already holds it, and the bucket of
 * files), runs every row, prints them and returns them.
 */
export async function memoryRows({ moto, rcloneEnv, largeBucket, largeKey, largeSize, seedLarge }) {
  const budget = Number(process.env.BENCH_S3_BUDGET_MIB ?? 32) * MiB;
  const fileSize = 4 * MiB;
  const files = Math.ceil((8 * budget) / fileSize);
  const clientConfig = s3ClientSettings(moto);
  if (seedLarge) await seedLarge();
  const seeder = new S3Client(clientConfig);
  const manyBucket = "memory-many";
  await seeder.send(new CreateBucketCommand({ Bucket: manyBucket }));
  const body = new Uint8Array(fileSize);
  for (let i = 0; i < body.length; i += 4096) body[i] = i & 0xff;
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < files) {
        const Key = `d${next % 4}/f${String(next++).padStart(4, "0")}.bin`;
        await seeder.send(new PutObjectCommand({ Bucket: manyBucket, Key, Body: body }));
      }
    }),
  );
  seeder.destroy();
  console.log(`memory: seeded ${files} x ${fileSize / MiB} MiB (8 x a ${budget / MiB} MiB budget)`);

  const childEnv = {
    ...process.env,
    S3_ENDPOINT: moto.endpoint,
    S3_REGION: moto.region,
    S3_ACCESS_KEY: moto.accessKeyId,
    S3_SECRET_KEY: moto.secretAccessKey,
  };
  const child = (mode, bucket, key, cacheBytes) =>
    measured(process.execPath, [join(here, "s3-memory-child.mjs"), mode, bucket, ...(key ? [key] : [])], {
      ...childEnv,
      ...(cacheBytes === undefined ? {} : { CACHE_MAX_BYTES: String(cacheBytes) }),
    });
  const rows = {};
  const check = (label, r, bytes) => {
    if (r.detail && r.detail.bytes !== bytes)
      throw new Error(`${label}: read ${r.detail.bytes} of ${bytes} bytes`);
    console.log(`memory ${label}: ${r.wall.toFixed(2)} s, ${r.rssMiB} MiB peak RSS (load ${r.load})`);
    rows[label] = r;
  };
  check("baseline (index only)", await child("baseline", largeBucket), 0);
  check("readFile, no budget", await child("readFile", largeBucket, largeKey), largeSize);
  check(
    `readFile, budget ${budget / MiB} MiB`,
    await child("readFile", largeBucket, largeKey, budget),
    largeSize,
  );
  check("createReadStream", await child("stream", largeBucket, largeKey), largeSize);
  const rcloneDir = await mkdtemp(join(tmpdir(), "ws-mem-rclone-"));
  check(
    "rclone copy (multi-thread)",
    await measured(
      "rclone",
      [
        "copy",
        `moto:${largeBucket}/${largeKey}`,
        rcloneDir,
        "--multi-thread-streams",
        "4",
        "--multi-thread-cutoff",
        `${Math.max(1, Math.floor(largeSize / 4 / MiB))}M`,
      ],
      rcloneEnv,
    ),
    largeSize,
  );
  await rm(rcloneDir, { recursive: true, force: true });
  check(
    "rclone cat > /dev/null",
    await measured("sh", ["-c", `exec rclone cat moto:${largeBucket}/${largeKey} > /dev/null`], rcloneEnv),
    largeSize,
  );
  const total = files * fileSize;
  check(`bucket of ${total / MiB} MiB, no budget`, await child("all", manyBucket), total);
  check(
    `bucket of ${total / MiB} MiB, budget ${budget / MiB} MiB`,
    await child("all", manyBucket, undefined, budget),
    total,
  );

  const base = rows["baseline (index only)"].rssMiB;
  console.table(
    Object.entries(rows).map(([row, r]) => ({
      row,
      "wall s": r.wall,
      "peak RSS MiB": r.rssMiB,
      "above baseline MiB": r.rssMiB - base,
      evictions: r.detail?.evictions ?? "",
      "load avg": r.load,
    })),
  );
  const ratio = (a, b) => Number((a / b).toFixed(2));
  const noBudget = rows[`bucket of ${total / MiB} MiB, no budget`];
  const withBudget = rows[`bucket of ${total / MiB} MiB, budget ${budget / MiB} MiB`];
  const ratios = {
    "readFile wall, no budget / rclone copy": ratio(
      rows["readFile, no budget"].wall,
      rows["rclone copy (multi-thread)"].wall,
    ),
    "readFile peak RSS above baseline, no budget / object size": ratio(
      rows["readFile, no budget"].rssMiB - base,
      largeSize / MiB,
    ),
    "readFile peak RSS above baseline, under a budget / object size (target <= 1 + 64 MiB)": ratio(
      rows[`readFile, budget ${budget / MiB} MiB`].rssMiB - base,
      largeSize / MiB,
    ),
    "stream wall / rclone cat": ratio(rows.createReadStream.wall, rows["rclone cat > /dev/null"].wall),
    "stream peak RSS / rclone cat peak RSS": ratio(
      rows.createReadStream.rssMiB,
      rows["rclone cat > /dev/null"].rssMiB,
    ),
    "bucket 8x budget: throughput with budget / without (target >= 0.9)": ratio(
      noBudget.wall,
      withBudget.wall,
    ),
    "bucket 8x budget: peak RSS above baseline with budget, MiB (target <= budget + overhead)":
      withBudget.rssMiB - base,
  };
  console.table(Object.entries(ratios).map(([ratio, value]) => ({ ratio, value })));
  return { budgetBytes: budget, files, fileBytes: fileSize, baselineRssMiB: base, rows, ratios };
}
