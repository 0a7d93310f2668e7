// A large file written by a command through exec (issue 18.5): peak RSS and wall time of one
// process per run, measured by GNU time, for one file of BENCH_EXEC_LARGE_MIB (default 1024 MiB)
// written into a read-write S3Bucket on moto:
//   stream   the default: the file goes from the exec directory to S3 part by part (multipart)
//   memory   streamBytes above the file: read whole into the VFS and put (the path before 18.5)
//   sparse   a sparse file of the same size with 4 bytes of data, streamed
//   baseline the same workspace running `true`: what every row carries anyway (Node, the SDK)
// and the same four rows for a read-write R2Bucket over Miniflare's R2 binding (started in the
// child: its RSS is the child's own, getrusage RUSAGE_SELF, without workerd; workerd's peak is
// printed beside it), against `rclone copyto` of the same file from local disk to the same moto. With WS_MAIN_PACKAGES
// (a directory of built @ws packages of another commit) the memory row is also run with those.
// Run by `npm run bench -- exec-large`. Reports numbers, never asserts.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { rcloneS3Env, s3ClientSettings, startMoto } from "@ws/test-servers";

const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const MIB = Number(process.env["BENCH_EXEC_LARGE_MIB"] ?? 1024);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

/** Wall seconds and peak RSS (MiB) of one command, via GNU time. */
async function measured(command, args, env) {
  const dir = await mkdtemp(join(tmpdir(), "ws-exec-large-"));
  const timing = join(dir, "time.txt");
  try {
    const { stdout } = await run("/usr/bin/time", ["-f", "%e %M", "-o", timing, command, ...args], {
      env,
      cwd: dir,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 1_800_000,
    });
    const [wall, kib] = (await readFile(timing, "utf8")).trim().split(/\s+/).slice(-2).map(Number);
    const last = stdout.trim().split("\n").at(-1) ?? "";
    const out = last.startsWith("{") ? JSON.parse(last) : undefined;
    return { wall, rssMiB: Math.round(kib / 1024), load: load(), out };
  } catch (error) {
    // The first line that names the failure, and what GNU time measured up to it.
    const reason = String(error.stderr || error.message)
      .split("\n")
      .find((line) => /^\s*\w*Error: /.test(line));
    const timed = await readFile(timing, "utf8").catch(() => "");
    const [wall, kib] = timed.trim().split(/\s+/).slice(-2).map(Number);
    return {
      failed: `${reason?.trim() ?? "exit code != 0"} (%M ${Math.round(kib / 1024)} MiB, ${wall} s)`,
      load: load(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const moto = await startMoto();
const work = await mkdtemp(join(tmpdir(), "ws-exec-large-bench-"));
const rows = [];
try {
  const clientConfig = s3ClientSettings(moto);
  const admin = new S3Client(clientConfig);
  await admin.send(new CreateBucketCommand({ Bucket: "large" }));
  admin.destroy();
  const env = {
    ...process.env,
    S3_ENDPOINT: moto.endpoint,
    S3_REGION: moto.region,
    S3_ACCESS_KEY: moto.accessKeyId,
    S3_SECRET_KEY: moto.secretAccessKey,
  };
  const child = join(here, "exec-large-child.mjs");
  const ws = async (label, mode, extraEnv = {}) => {
    const m = await measured(
      process.execPath,
      [child, mode, "large", `${mode}-${rows.length}`, String(MIB)],
      {
        ...env,
        ...extraEnv,
      },
    );
    if (m.failed) {
      console.log(`${label.padEnd(34)} failed: ${m.failed}  load ${m.load}`);
      return;
    }
    // R2 rows: the child's own peak (GNU time's %M may include workerd, reaped by it).
    const extra =
      m.out?.serverRssMiB === undefined ? "" : `  (workerd ${m.out.serverRssMiB} MiB, %M ${m.rssMiB})`;
    if (m.out?.serverRssMiB !== undefined) m.rssMiB = m.out.selfRssMiB;
    rows.push({ label, ...m });
    console.log(
      `${label.padEnd(34)} ${String(m.rssMiB).padStart(6)} MiB ${m.wall.toFixed(2).padStart(7)} s  load ${m.load}${extra}`,
    );
  };
  console.log(`one ${MIB} MiB file written by a command into S3Bucket on moto (load ${load()})`);
  await ws("baseline (exec true)", "baseline");
  await ws("stream (default)", "stream");
  await ws("sparse, streamed", "sparse");
  await ws("memory (streamBytes above it)", "memory");
  if (process.env["WS_MAIN_PACKAGES"])
    await ws("main build (WS_MAIN_PACKAGES)", "stream", { WS_PACKAGES: process.env["WS_MAIN_PACKAGES"] });
  console.log(`the same into R2Bucket over Miniflare's R2 binding (load ${load()})`);
  const r2 = { WS_BENCH_R2: "1" };
  await ws("R2 baseline (exec true)", "baseline", r2);
  await ws("R2 stream (default)", "stream", r2);
  await ws("R2 sparse, streamed", "sparse", r2);
  await ws("R2 memory (streamBytes above it)", "memory", r2);
  if (process.env["WS_MAIN_PACKAGES"])
    await ws("R2 main build (WS_MAIN_PACKAGES)", "stream", {
      ...r2,
      WS_PACKAGES: process.env["WS_MAIN_PACKAGES"],
    });
  // The peer: rclone uploading the same bytes from local disk (multipart, 4 transfers).
  const file = join(work, "big.bin");
  await run("sh", ["-c", `head -c ${MIB}M /dev/zero > ${file}`]);
  const r = await measured("rclone", ["copyto", file, "moto:large/rclone/big.bin"], rcloneS3Env(moto));
  rows.push({ label: "rclone copyto", ...r });
  console.log(
    `${"rclone copyto".padEnd(34)} ${String(r.rssMiB).padStart(6)} MiB ${r.wall.toFixed(2).padStart(7)} s  load ${r.load}`,
  );
  const by = (label) => rows.find((x) => x.label === label);
  const baseOf = (label) => by(label.startsWith("R2 ") ? "R2 baseline (exec true)" : "baseline (exec true)");
  const ratio = (a, b) => (a / b).toFixed(2);
  console.log("\nratios (RSS above the baseline process / rclone's RSS; wall / rclone's wall):");
  for (const label of [
    "stream (default)",
    "sparse, streamed",
    "memory (streamBytes above it)",
    "main build (WS_MAIN_PACKAGES)",
    "R2 stream (default)",
    "R2 sparse, streamed",
    "R2 memory (streamBytes above it)",
    "R2 main build (WS_MAIN_PACKAGES)",
  ]) {
    const row = by(label);
    const base = baseOf(label);
    if (!row || !base) continue;
    console.log(
      `${label.padEnd(34)} RSS above baseline ${String(row.rssMiB - base.rssMiB).padStart(6)} MiB  ` +
        `RSS/rclone ${ratio(row.rssMiB, r.rssMiB)}  wall/rclone ${ratio(row.wall, r.wall)}`,
    );
  }
} finally {
  await rm(work, { recursive: true, force: true });
  await moto.stop();
}
