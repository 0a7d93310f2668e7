// The listing rows of s3.bench.mjs (issue 16 item 4): the client CPU of indexing a bucket through a
// Workspace against `rclone lsf -R` on the same moto, and the heap each stub keeps afterwards.
//
//   CPU: process.cpuUsage around `ws.fs.readdir` of a fresh Workspace (listing, sanitising, the
//   stub table) vs user + sys of `rclone lsf -R --files-only` (its whole process, start-up
//   included, as a user pays it), ROUNDS times each, alternating; the ratio of each round and of
//   the medians. Target: at most 1.
//   Bytes per stub: V8 heap (used + external) after a full GC with the indexed workspace alive,
//   minus the same once it is closed and dropped; the same for a workspace over one folder
//   (1/20 of the keys) is subtracted, and the rest divided by the other keys, so a workspace's
//   fixed cost (its SDK client, sockets) is not spread over the stubs. Target: at most 100.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { S3Bucket } from "@ws/mount-s3";
import { Workspace } from "@ws/workspace";

const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_S3_INDEX_ROUNDS ?? 3);

function heapNow() {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * `bucket` holds `keys` objects in `folders` top-level folders, already listed once (moto's first
 * listing after a bulk load is slower). `work` is a scratch folder.
 */
export async function indexRows({ bucket, keys, folders, clientConfig, rcloneEnv, work, concurrency }) {
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    let ws = new Workspace({
      mounts: { "/b": S3Bucket({ bucket, clientConfig, concurrency }) },
      concurrency,
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const top = await ws.fs.readdir("/b");
    const wall = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu0);
    if (top.length !== folders) throw new Error(`index: ${top.length} folders, expected ${folders}`);
    // What the indexed workspace holds: the heap with it, minus the heap once it is closed and
    // gone (both after the listing, so caches the SDK warmed on the way count in neither). That
    // includes what any workspace holds whatever its size (the SDK client, its sockets); the same
    // taken for one folder (keys / folders objects, listed by prefix) is subtracted, so what is
    // left is what the other keys cost, per key.
    const withIt = heapNow();
    await ws.close();
    ws = undefined;
    const all = withIt - heapNow();
    let one = new Workspace({
      mounts: { "/b": S3Bucket({ bucket, clientConfig, concurrency, prefix: "d00/" }) },
      concurrency,
    });
    const oneKeys = (await one.fs.readdir("/b")).length;
    const withOne = heapNow();
    await one.close();
    one = undefined;
    const bytesPerStub = (all - (withOne - heapNow())) / (keys - oneKeys);

    const timing = join(work, "index-time.txt");
    const r0 = performance.now();
    const { stdout } = await run(
      "/usr/bin/time",
      ["-f", "%U %S", "-o", timing, "rclone", "lsf", "-R", "--files-only", `moto:${bucket}`],
      { env: rcloneEnv, maxBuffer: 256 * 1024 * 1024 },
    );
    const rcloneWall = (performance.now() - r0) / 1000;
    const listed = stdout.split("\n").filter((l) => l.trim() !== "").length;
    if (listed !== keys) throw new Error(`rclone lsf: ${listed} keys, expected ${keys}`);
    const [user, sys] = (await readFile(timing, "utf8")).trim().split(/\s+/).slice(-2).map(Number);
    const row = {
      round: round + 1,
      "Workspace CPU s": (used.user + used.system) / 1e6,
      "rclone CPU s": user + sys,
      "Workspace wall s": wall,
      "rclone wall s": rcloneWall,
      "bytes per stub": Math.round(bytesPerStub),
      load: loadavg()[0].toFixed(2),
    };
    row["CPU ratio"] = Number((row["Workspace CPU s"] / row["rclone CPU s"]).toFixed(2));
    rounds.push(row);
    console.log(
      `index round ${row.round}: Workspace ${row["Workspace CPU s"].toFixed(3)} s CPU, rclone lsf ${row["rclone CPU s"].toFixed(3)} s CPU (ratio ${row["CPU ratio"]}), ${row["bytes per stub"]} bytes per stub, load ${row.load}`,
    );
  }
  console.table(rounds);
  const ratios = {
    "index CPU: Workspace / rclone lsf -R, per round (target <= 1)": rounds.map((r) => r["CPU ratio"]),
    "index CPU: median Workspace / median rclone lsf -R (target <= 1)": Number(
      (
        median(rounds.map((r) => r["Workspace CPU s"])) / median(rounds.map((r) => r["rclone CPU s"]))
      ).toFixed(2),
    ),
    "heap bytes per stub after indexing a real listing (target <= 100)": median(
      rounds.map((r) => r["bytes per stub"]),
    ),
  };
  console.table(Object.entries(ratios).map(([ratio, value]) => ({ ratio, value: String(value) })));
  return { keys, rounds, ratios };
}
