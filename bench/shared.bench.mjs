// @ws/shared: how fast one process's acknowledged write reaches another process's workspace, what a
// commit costs, and what an idle reader costs. Run by `npm run bench -- shared` (built packages).
//
//   visibility: writer commit acknowledged → reader's ws.fs.readdir shows the file → ws.fs.readFile
//               returns the new bytes (p50, p99), for tier 1 polling every 100 ms and every 1 s, and tier 2
//   commits/s:  one writer, single-file commits in a row; four writers at once
//   idle cost:  requests one idle reader sends per hour (bucket GET/LIST; database queries)
//
// Writer and reader are two SharedMounts in one Node process with their own clients: what crosses
// between them is only the bucket (and PostgreSQL), exactly as between machines. moto (single-process
// Python) bounds every commit rate here; compare tiers with each other, not with S3.
// Scale: BENCH_SHARED_SAMPLES=20 npm run bench -- shared
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { S3Bucket } from "@ws/mount-s3";
import { PostgresMetadata, SharedMount } from "@ws/shared";
import { startMoto, startPostgres } from "@ws/test-servers";
import { Workspace } from "@ws/workspace";

const here = dirname(fileURLToPath(import.meta.url));
const SAMPLES = Number(process.env["BENCH_SHARED_SAMPLES"] ?? 40);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const moto = await startMoto();
const pg = await startPostgres();
const clientConfig = {
  endpoint: moto.endpoint,
  region: moto.region,
  forcePathStyle: true,
  credentials: { accessKeyId: moto.accessKeyId, secretAccessKey: moto.secretAccessKey },
};
let bucketCount = 0;
async function bucket() {
  const name = `bench-shared-${bucketCount++}-${Date.now()}`;
  const client = new S3Client(clientConfig);
  await client.send(new CreateBucketCommand({ Bucket: name }));
  client.destroy();
  return name;
}
function open(name, tier, pollMs, table) {
  const inner = S3Bucket({ bucket: name, clientConfig, mode: "read-write" });
  return SharedMount(inner, {
    mode: "read-write",
    pollMs,
    reconcileMs: 60_000,
    ...(tier === 2 ? { metadata: PostgresMetadata({ connectionString: pg.connectionString, table }) } : {}),
  });
}
function pct(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

async function visibility(label, tier, pollMs, samples) {
  const name = await bucket();
  const table = `bench_${tier}_${pollMs}`;
  const writer = open(name, tier, pollMs, table);
  const readerMount = open(name, tier, pollMs, table);
  const ws = new Workspace({ mounts: { "/shared": readerMount } });
  await writer.ready();
  await ws.fs.readdir("/shared");
  const listed = [];
  const read = [];
  for (let i = 0; i < samples; i++) {
    // Start at a random phase of the poll so the delays are spread as they would be.
    await sleep(Math.random() * Math.min(pollMs, 200));
    const body = `sample ${i} ${Date.now()}`;
    await writer.commit([{ op: "put", path: `s/${i}.txt`, bytes: body }]);
    const t0 = performance.now();
    while (!(await ws.fs.exists(`/shared/s/${i}.txt`))) await sleep(1);
    listed.push(performance.now() - t0);
    while ((await ws.fs.readFile(`/shared/s/${i}.txt`, "utf8")) !== body) await sleep(1);
    read.push(performance.now() - t0);
  }
  await ws.close();
  await writer.dispose();
  const row = {
    label,
    samples,
    readdir_p50: pct(listed, 50),
    readdir_p99: pct(listed, 99),
    readFile_p50: pct(read, 50),
    readFile_p99: pct(read, 99),
    target_p99: tier === 2 ? 50 : pollMs + 150,
  };
  row.ratio_to_target = row.readFile_p99 / row.target_p99;
  return row;
}

async function commitsPerSecond(label, tier, writers, perWriter) {
  const name = await bucket();
  const table = `bench_commits_${tier}_${writers}`;
  const mounts = Array.from({ length: writers }, () => open(name, tier, 1000, table));
  await Promise.all(mounts.map((m) => m.ready()));
  const t0 = performance.now();
  let conflicts = 0;
  await Promise.all(
    mounts.map(async (m, w) => {
      for (let i = 0; i < perWriter; i++) {
        await m
          .commit([{ op: "put", path: `w${w}/f${i}.txt`, bytes: `w${w}:${i}` }])
          .catch(() => conflicts++);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const retries = mounts.reduce((n, m) => n + m.stats.retries, 0);
  for (const m of mounts) await m.dispose();
  return {
    label,
    writers,
    commits: writers * perWriter,
    seconds,
    commits_per_s: (writers * perWriter) / seconds,
    slot_retries: retries,
    failed: conflicts,
  };
}

async function idleCost(label, tier, pollMs, ms) {
  const name = await bucket();
  const reader = open(name, tier, pollMs, `bench_idle_${tier}_${pollMs}`);
  await reader.ready();
  const before = { ...reader.stats };
  await sleep(ms);
  const after = { ...reader.stats };
  await reader.dispose();
  const perHour = (k) => ((after[k] - before[k]) * 3_600_000) / ms;
  return {
    label,
    bucket_gets_per_h: perHour("gets"),
    bucket_lists_per_h:
      perHour("lists") + (tier === 1 ? 60 : 0) /* tier 1 reconciles every 60 s, not reached in the window */,
    db_queries_per_h: perHour("queries") + (tier === 2 ? 120 : 0) /* the 30 s safety poll */,
  };
}

try {
  const vis = [];
  vis.push(await visibility("tier 1, poll 100 ms", 1, 100, SAMPLES));
  vis.push(await visibility("tier 1, poll 1 s", 1, 1000, Math.max(10, Math.floor(SAMPLES / 2))));
  vis.push(await visibility("tier 2 (PostgreSQL NOTIFY)", 2, 1000, SAMPLES));
  console.log("\nvisibility delay, acknowledged commit → other process (ms)");
  console.table(
    vis.map((r) => ({
      setup: r.label,
      n: r.samples,
      "readdir p50": r.readdir_p50.toFixed(1),
      "readdir p99": r.readdir_p99.toFixed(1),
      "readFile p50": r.readFile_p50.toFixed(1),
      "readFile p99": r.readFile_p99.toFixed(1),
      "target p99": r.target_p99,
      "p99 / target": r.ratio_to_target.toFixed(2),
    })),
  );
  const t1 = vis[0].readFile_p99;
  console.log(`tier 1 (100 ms) p99 / tier 2 p99: ${(t1 / vis[2].readFile_p99).toFixed(1)}x`);

  const commits = [];
  commits.push(await commitsPerSecond("tier 1, 1 writer", 1, 1, 100));
  commits.push(await commitsPerSecond("tier 1, 4 writers", 1, 4, 25));
  commits.push(await commitsPerSecond("tier 2, 1 writer", 2, 1, 100));
  commits.push(await commitsPerSecond("tier 2, 4 writers", 2, 4, 25));
  console.log("\ncommits per second (single-file commits, moto)");
  console.table(
    commits.map((c) => ({
      setup: c.label,
      commits: c.commits,
      "commits/s": c.commits_per_s.toFixed(1),
      "log-slot retries": c.slot_retries,
      failed: c.failed,
    })),
  );
  console.log(
    `tier 2 / tier 1 commits/s with 4 writers: ${(commits[3].commits_per_s / commits[1].commits_per_s).toFixed(1)}x`,
  );

  const idle = [];
  idle.push(await idleCost("tier 1, poll 100 ms", 1, 100, 5000));
  idle.push(await idleCost("tier 1, poll 1 s", 1, 1000, 10_000));
  idle.push(await idleCost("tier 2", 2, 1000, 5000));
  console.log("\nrequests per idle reader per hour (S3 list prices: GET $0.0004/1k, LIST $0.005/1k)");
  console.table(
    idle.map((r) => ({
      setup: r.label,
      "bucket GET/h": Math.round(r.bucket_gets_per_h),
      "bucket LIST/h": Math.round(r.bucket_lists_per_h),
      "db queries/h": Math.round(r.db_queries_per_h),
      "$ / reader / month": (
        ((r.bucket_gets_per_h * 0.0004 + r.bucket_lists_per_h * 0.005) / 1000) *
        730
      ).toFixed(2),
    })),
  );
  await writeFile(
    join(here, "results", "shared.json"),
    JSON.stringify({ visibility: vis, commits, idle }, null, 2),
  );
} finally {
  await pg.stop();
  await moto.stop();
}
