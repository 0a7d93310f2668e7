// Peak memory of streaming one large object through a Workspace (issue 16 item 3: "createReadStream
// of a 1 GiB object peaks under 128 MiB"), against `rclone cat` of the same object, both from one
// nginx started here (HttpTree's ranged reads; nginx serves Range from the page cache, unlike moto,
// which copies the whole object for every ranged GET). Run by `npm run bench -- stream`.
//
// Each read runs in a process of its own under GNU time, so its peak RSS (%M) is its own:
//   baseline   Node, the Workspace and HttpTree loaded, the mount indexed, nothing read
//   stream     for await over ws.fs.createReadStream(path): every byte seen once, none kept
//   handle     ws.fs.open(path) and handle.read() of 1 MiB at a time into one buffer
//   rclone cat rclone's http remote, to /dev/null
// Wall time is reported beside it; BENCH_STREAM_MIB sets the size (default 1024), BENCH_STREAM_ROUNDS
// the runs per row (default 3, every run printed; the table gives the median).
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, open, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const MiB = 1024 * 1024;

if (process.argv[2] === "--child") {
  const [, , , mode, url, sizeText] = process.argv;
  const size = Number(sizeText);
  const { HttpTree } = await import("@ws/mount-http");
  const { Workspace } = await import("@ws/workspace");
  const ws = new Workspace({ mounts: { "/l": HttpTree(url) } });
  await ws.fs.readdir("/l"); // index first: only the read is measured
  const start = performance.now();
  let bytes = 0;
  if (mode === "stream") {
    for await (const chunk of ws.fs.createReadStream("/l/big.bin")) bytes += chunk.length;
  } else if (mode === "handle") {
    const handle = await ws.fs.open("/l/big.bin");
    const buffer = new Uint8Array(MiB);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      bytes += bytesRead;
    }
    await handle.close();
  } else if (mode !== "baseline") {
    throw new Error(`unknown mode ${mode}`);
  }
  const wall = (performance.now() - start) / 1000;
  if (mode !== "baseline" && bytes !== size) throw new Error(`${mode}: read ${bytes} of ${size} bytes`);
  await ws.close();
  process.stdout.write(`${JSON.stringify({ wall, bytes })}\n`);
  process.exit(0);
}

const { findExecutable, startNginx } = await import("@ws/test-servers");
const SIZE = Number(process.env.BENCH_STREAM_MIB ?? 1024) * MiB;
const ROUNDS = Number(process.env.BENCH_STREAM_ROUNDS ?? 3);
for (const tool of ["rclone", "/usr/bin/time"]) {
  if (!(await findExecutable(tool))) {
    console.error(`${tool} is missing: apt-get install -y rclone time`);
    process.exit(1);
  }
}

const work = await mkdtemp(join(tmpdir(), "ws-stream-bench-"));
let nginx;
let nginxHtml;

/** Wall seconds, CPU seconds (user + sys) and peak RSS (MiB) of one command under GNU time. */
async function measured(command, args, env = process.env) {
  const timing = join(work, "time.txt");
  const start = performance.now();
  const { stdout } = await run("/usr/bin/time", ["-f", "%U %S %M", "-o", timing, command, ...args], {
    env,
    maxBuffer: MiB,
    timeout: 900_000,
  });
  const wall = (performance.now() - start) / 1000;
  const [user, sys, kib] = (await readFile(timing, "utf8")).trim().split(/\s+/).slice(-3).map(Number);
  let inner;
  try {
    inner = JSON.parse(stdout.trim().split("\n").at(-1));
  } catch {
    inner = undefined;
  }
  return { wall: inner?.wall ?? wall, cpu: user + sys, rssMiB: kib / 1024, load: loadavg()[0] };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const root = join(work, "www");
  await mkdir(join(root, "large"), { recursive: true });
  {
    // Written in 16 MiB pieces, so the seeding itself never holds the object.
    const file = await open(join(root, "large", "big.bin"), "w");
    const piece = new Uint8Array(16 * MiB);
    for (let at = 0; at < SIZE; at += piece.length) {
      for (let i = 0; i < piece.length; i += 4096) piece[i] = ((at + i) / 4096) & 0xff;
      await file.write(piece, 0, Math.min(piece.length, SIZE - at), at);
    }
    await file.close();
  }
  nginx = await startNginx({ root, autoindex: "json" });
  // rclone's http remote reads HTML indexes only.
  nginxHtml = await startNginx({ root, autoindex: "html" });
  const url = `${nginx.url}large/`;
  console.log(`nginx ${nginx.url}: one ${SIZE / MiB} MiB file; ${ROUNDS} runs per row`);
  const rcloneEnv = {
    ...process.env,
    RCLONE_CONFIG: join(work, "rclone.conf"),
    RCLONE_CONFIG_NG_TYPE: "http",
    RCLONE_CONFIG_NG_URL: nginxHtml.url,
  };
  const self = new URL(import.meta.url).pathname;
  const rows = {
    baseline: () => measured(process.execPath, [self, "--child", "baseline", url, String(SIZE)]),
    "ws.fs.createReadStream": () =>
      measured(process.execPath, [self, "--child", "stream", url, String(SIZE)]),
    "ws.fs.open + read(1 MiB)": () =>
      measured(process.execPath, [self, "--child", "handle", url, String(SIZE)]),
    "rclone cat > /dev/null": () =>
      measured("sh", ["-c", "exec rclone cat ng:large/big.bin > /dev/null"], rcloneEnv),
  };
  const runs = Object.fromEntries(Object.keys(rows).map((k) => [k, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, once] of Object.entries(rows)) {
      const r = await once();
      runs[name].push(r);
      console.log(
        `${name}: ${r.wall.toFixed(2)} s, ${r.cpu.toFixed(2)} s CPU, peak RSS ${r.rssMiB.toFixed(0)} MiB (load ${r.load.toFixed(2)})`,
      );
    }
  }
  const base = median(runs.baseline.map((r) => r.rssMiB));
  const table = Object.entries(runs).map(([row, list]) => ({
    row,
    "wall s (median)": Number(median(list.map((r) => r.wall)).toFixed(2)),
    "CPU s (median, whole process)": Number(median(list.map((r) => r.cpu)).toFixed(2)),
    "peak RSS MiB (median)": Math.round(median(list.map((r) => r.rssMiB))),
    "peak RSS MiB (all runs)": list.map((r) => Math.round(r.rssMiB)).join(" / "),
    "above baseline MiB": Math.round(median(list.map((r) => r.rssMiB)) - base),
  }));
  console.table(table);
  const stream = runs["ws.fs.createReadStream"];
  const rclone = runs["rclone cat > /dev/null"];
  const ratios = {
    [`createReadStream of ${SIZE / MiB} MiB: peak RSS MiB, median (target < 128)`]: Math.round(
      median(stream.map((r) => r.rssMiB)),
    ),
    "createReadStream peak RSS / rclone cat peak RSS": Number(
      (median(stream.map((r) => r.rssMiB)) / median(rclone.map((r) => r.rssMiB))).toFixed(2),
    ),
    "createReadStream wall / rclone cat wall": Number(
      (median(stream.map((r) => r.wall)) / median(rclone.map((r) => r.wall))).toFixed(2),
    ),
    "createReadStream CPU (whole process) / rclone cat CPU": Number(
      (median(stream.map((r) => r.cpu)) / median(rclone.map((r) => r.cpu))).toFixed(2),
    ),
  };
  console.table(Object.entries(ratios).map(([ratio, value]) => ({ ratio, value })));
  const { writeFile } = await import("node:fs/promises");
  await writeFile(
    join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "results", "stream.json"),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, server: "nginx", bytes: SIZE, runs, ratios }, null, 2)}\n`,
  );
} finally {
  await nginx?.stop();
  await nginxHtml?.stop();
  await rm(work, { recursive: true, force: true });
}
process.exit(0);
