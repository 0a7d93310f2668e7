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
// Parts: `node bench/shared.bench.mjs timeline visibility` (after a build) runs only those; default: every
// part (timeline, visibility, commits, idle)
//
//   timeline:   where the time of one write goes, phase by phase (poll wait, log GET, change feed,
//               workspace refresh, readdir, readFile's GET), p50 and max over the samples
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { S3Bucket } from "@ws/mount-s3";
import { PostgresMetadata, SharedMount } from "@ws/shared";
import { s3ClientSettings, startMoto, startPostgres } from "@ws/test-servers";
import { Workspace } from "@ws/workspace";

const here = dirname(fileURLToPath(import.meta.url));
const SAMPLES = Number(process.env["BENCH_SHARED_SAMPLES"] ?? 40);
const PARTS = new Set(
  process.argv.length > 2 ? process.argv.slice(2) : ["timeline", "visibility", "commits", "idle"],
);
const load = () => loadavg()[0].toFixed(1);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const moto = await startMoto();
const pg = await startPostgres();
const clientConfig = s3ClientSettings(moto);
let bucketCount = 0;
async function bucket() {
  const name = `bench-shared-${bucketCount++}-${Date.now()}`;
  const client = new S3Client(clientConfig);
  await client.send(new CreateBucketCommand({ Bucket: name }));
  client.destroy();
  return name;
}
function open(name, tier, pollMs, table, wrap = (m) => m) {
  const inner = wrap(S3Bucket({ bucket: name, clientConfig, mode: "read-write" }));
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

async function visibility(label, tier, pollMs, samples, size = 0) {
  const name = await bucket();
  const table = `bench_${tier}_${pollMs}_${size}`;
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
    // Small files travel with their change; a bigger one (size > 4 KiB) costs the reader a GET.
    const body = `sample ${i} ${Date.now()} `.padEnd(size, "x");
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
    load: load(),
  };
  row.ratio_to_target = row.readFile_p99 / row.target_p99;
  return row;
}

/** The inner mount with every fetch (log poll, file read) timed: `marks` gets [start, end, key, found]. */
function traced(mount, marks) {
  return new Proxy(mount, {
    get(target, prop, receiver) {
      if (prop !== "fetch") return Reflect.get(target, prop, receiver);
      return async (key, ...rest) => {
        const start = performance.now();
        try {
          const bytes = await target.fetch(key, ...rest);
          marks.push({ start, end: performance.now(), key, found: true });
          return bytes;
        } catch (error) {
          marks.push({ start, end: performance.now(), key, found: false });
          throw error;
        }
      };
    },
  });
}

/**
 * One write at a time, every step timed on the reader's side (same clock: one process):
 *   poll wait    ack → the start of the reader's request that found the entry (tier 1: the poll phase)
 *   log read     that request (tier 1: GET of .ws/log/N; tier 2: the notification → query → applied)
 *   feed         entry applied → the change feed fired (watch)
 *   refresh      watch fired → the workspace's refresh applied (its "index" event)
 *   readdir      refresh applied → the bench's ws.fs.exists saw the file
 *   readFile     → ws.fs.readFile returned the bytes (one GET of the file)
 */
async function timeline(label, tier, pollMs, samples) {
  const name = await bucket();
  const table = `bench_tl_${tier}_${pollMs}`;
  const writer = open(name, tier, pollMs, table);
  const marks = [];
  const readerMount = open(name, tier, pollMs, table, (m) => traced(m, marks));
  const ws = new Workspace({ mounts: { "/shared": readerMount } });
  let watched = [];
  let refreshed = [];
  readerMount.watch(() => watched.push(performance.now()));
  ws.on("index", (e) => {
    if (e.refresh) refreshed.push(performance.now());
  });
  await writer.ready();
  await ws.fs.readdir("/shared");
  const phases = [];
  let example;
  for (let i = 0; i < samples; i++) {
    await sleep(Math.random() * Math.min(pollMs, 200));
    const body = `sample ${i} ${Date.now()}`;
    const path = `t/${i}.txt`;
    marks.length = 0;
    watched = [];
    refreshed = [];
    const seqBefore = readerMount.seq;
    const commitStart = performance.now();
    const { seq } = await writer.commit([{ op: "put", path, bytes: body }]);
    const ack = performance.now();
    while (!(await ws.fs.exists(`/shared/${path}`))) await sleep(1);
    const listed = performance.now();
    while ((await ws.fs.readFile(`/shared/${path}`, "utf8")) !== body) await sleep(1);
    const read = performance.now();
    // tier 1: the GET that found entry `seq`; tier 2: the first query after the ack (no fetch of the log)
    const logKey = `.ws/log/${String(seq).padStart(12, "0")}.json`;
    const found = marks.find((m) => m.key === logKey && m.found);
    const fileGet = marks.find((m) => m.key === path || (!m.key.startsWith(".ws/log/") && m.end > listed));
    const fed = watched.find((t) => t >= commitStart) ?? Number.NaN;
    const applied = refreshed.find((t) => t >= fed) ?? Number.NaN;
    const after404 = marks.find((m) => found && m.start >= found.end && !m.found);
    const row = {
      "poll wait": found ? found.start - ack : Number.NaN,
      "log read": found ? found.end - found.start : Number.NaN,
      "next-entry GET before feed":
        found && after404 && after404.end <= fed ? after404.end - after404.start : 0,
      "ack → feed": fed - ack,
      "feed → refresh": applied - fed,
      "refresh → readdir": listed - applied,
      "ack → readdir": listed - ack,
      "readFile GET": fileGet ? fileGet.end - fileGet.start : Number.NaN,
      "ack → readFile": read - ack,
      "feed before ack": fed < ack ? 1 : 0,
    };
    phases.push(row);
    if (i === Math.floor(samples / 2)) {
      example = [
        ["commit called", commitStart - ack],
        ["commit acknowledged", 0],
        ...marks
          .filter((m) => m.start >= commitStart - pollMs * 2)
          .map((m) => [`  reader ${m.found ? "GET" : "GET (404)"} ${m.key}`, m.start - ack, m.end - ack]),
        ["change feed fired", fed - ack],
        ["workspace refresh applied", applied - ack],
        ["readdir shows the file", listed - ack],
        ["readFile returns the bytes", read - ack],
      ];
      void seqBefore;
    }
  }
  await ws.close();
  await writer.dispose();
  const summary = {};
  for (const key of Object.keys(phases[0])) {
    const values = phases.map((p) => p[key]).filter((v) => Number.isFinite(v));
    summary[key] = {
      p50: pct(values, 50),
      p99: pct(values, 99),
      max: values.length ? Math.max(...values) : Number.NaN,
    };
  }
  return { label, samples, summary, example, load: load() };
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

const results = { loadAtStart: load() };
console.log(`load average (1 min) at start: ${results.loadAtStart}`);
try {
  if (PARTS.has("timeline")) {
    const lines = [];
    lines.push(await timeline("tier 1, poll 100 ms", 1, 100, Math.max(10, Math.floor(SAMPLES / 2))));
    lines.push(await timeline("tier 2 (PostgreSQL NOTIFY)", 2, 1000, Math.max(10, Math.floor(SAMPLES / 2))));
    for (const tl of lines) {
      console.log(
        `\ntimeline of one write, ${tl.label} (ms from the writer's acknowledgement; load ${tl.load})`,
      );
      console.table(
        tl.example.map(([what, at, end]) => ({ step: what, at: at.toFixed(1), end: end?.toFixed(1) ?? "" })),
      );
      console.log(`phases over ${tl.samples} writes (ms)`);
      console.table(
        Object.entries(tl.summary).map(([phase, v]) => ({
          phase,
          p50: v.p50.toFixed(1),
          p99: v.p99.toFixed(1),
          max: v.max.toFixed(1),
        })),
      );
    }
    results.timeline = lines;
  }
  if (PARTS.has("visibility")) {
    const vis = [];
    vis.push(await visibility("tier 1, poll 100 ms", 1, 100, SAMPLES));
    vis.push(await visibility("tier 1, poll 1 s", 1, 1000, Math.max(10, Math.floor(SAMPLES / 2))));
    vis.push(await visibility("tier 2 (PostgreSQL NOTIFY)", 2, 1000, SAMPLES));
    vis.push(await visibility("tier 1, poll 100 ms, 64 KiB file", 1, 100, SAMPLES, 65_536));
    vis.push(await visibility("tier 2, 64 KiB file", 2, 1000, SAMPLES, 65_536));
    console.log(`\nvisibility delay, acknowledged commit → other process (ms; load ${load()})`);
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
        load: r.load,
      })),
    );
    console.log(
      `tier 1 (100 ms) p99 / tier 2 p99: ${(vis[0].readFile_p99 / vis[2].readFile_p99).toFixed(1)}x`,
    );
    results.visibility = vis;
  }

  if (PARTS.has("commits")) {
    const commits = [];
    commits.push(await commitsPerSecond("tier 1, 1 writer", 1, 1, 100));
    commits.push(await commitsPerSecond("tier 1, 4 writers", 1, 4, 25));
    commits.push(await commitsPerSecond("tier 2, 1 writer", 2, 1, 100));
    commits.push(await commitsPerSecond("tier 2, 4 writers", 2, 4, 25));
    console.log(`\ncommits per second (single-file commits, moto; load ${load()})`);
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
    results.commits = commits;
  }

  if (PARTS.has("idle")) {
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
    results.idle = idle;
  }
  results.loadAtEnd = load();
  console.log(`\nload average (1 min) at the end: ${results.loadAtEnd}`);
  await writeFile(join(here, "results", "shared.json"), JSON.stringify(results, null, 2));
} finally {
  await pg.stop();
  await moto.stop();
}
