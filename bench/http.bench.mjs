// HttpTree through a Workspace vs rclone (http remote) and wget -r, all against nginx started here
// over one directory. Run by `npm run bench -- http` (built packages, node --expose-gc).
//
//   small:  2,000 files of 2 KiB in 20 folders: index + cold read of everything
//   large:  one 256 MiB file
//
// nginx serves the same directory twice: with `autoindex_format json` (what HttpTree reads best)
// and with HTML (what rclone's and wget's crawlers read; HttpTree over it too, with a HEAD per
// file). Wall time and client CPU are reported; ratios below 1.0 mean HttpTree is faster.
//
// The large file is read three ways, each run in a child process of its own so that its peak RSS
// is its own (wall and CPU are measured inside the child, around the read alone, after the mount
// has listed; Node's start is not in them, rclone's and wget's starts are in theirs):
//   fetch     HttpTree's fetch(): the provider's read, the bytes in one buffer
//   hydrate   a Workspace's prefetch of the file: the bytes in the workspace, where rclone's copy
//             puts them on disk (the closest counterpart of `rclone copy`)
//   readFile  a Workspace's cold readFile: hydrate, then the workspace copies the file out to
//             the caller (memfs readFileSync)
// The load average is printed beside every phase: on a shared machine wall times mostly measure
// the wait for a CPU, client CPU is the steadier number.
// Scale down for a quick try: BENCH_HTTP_FILES=500 BENCH_HTTP_LARGE_MIB=64 npm run bench -- http
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { HttpTree } from "@ws/mount-http";
import { findExecutable, startNginx } from "@ws/test-servers";
import { Workspace } from "@ws/workspace";

const run = promisify(execFile);

// ---- child: one large read, measured from inside -------------------------------------------------
if (process.argv[2] === "--large-child") {
  const [, , , how, url, sizeText, streams] = process.argv;
  const size = Number(sizeText);
  const options = { readStreams: Number(streams) };
  // Warm-up, unmeasured: the same code paths over a 4 MiB file read in ranges, so that the JIT's
  // first compile of them is not in the number (rclone and wget are compiled programs).
  for (let i = 0; i < 3; i++) {
    const warm = new Workspace({
      mounts: { "/w": HttpTree(new URL("../warm/", url).href, { ...options, rangeThreshold: 0 }) },
    });
    await warm.fs.readdir("/w");
    if (how === "readFile") await warm.fs.readFile("/w/warm.bin");
    else await warm.prefetch("/w");
    await warm.close();
    const mount = HttpTree(new URL("../warm/", url).href, { ...options, rangeThreshold: 0 });
    await mount.list();
    await mount.fetch("warm.bin");
  }
  let read;
  let done = async () => {};
  if (how === "fetch") {
    const mount = HttpTree(url, options);
    await mount.list();
    read = async () => (await mount.fetch("big.bin")).length;
  } else {
    const ws = new Workspace({ mounts: { "/l": HttpTree(url, options) } });
    await ws.fs.readdir("/l"); // index first: only the read is measured
    read =
      how === "hydrate"
        ? async () => {
            await ws.prefetch("/l");
            return ws.stats.bytesIn;
          }
        : async () => (await ws.fs.readFile("/l/big.bin")).length;
    done = () => ws.close();
  }
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const got = await read();
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  if (got !== size) throw new Error(`${how}: expected ${size} bytes, got ${got}`);
  const peak = process.resourceUsage().maxRSS * 1024;
  await done();
  process.stdout.write(
    JSON.stringify({
      wall,
      cpu: (used.user + used.system) / 1e6,
      rssMiB: peak / 2 ** 20,
      rssBeforeMiB: rssBefore / 2 ** 20,
    }),
  );
  process.exit(0);
}
const MiB = 1024 * 1024;
const FILES = Number(process.env["BENCH_HTTP_FILES"] ?? 2000);
const SMALL_SIZE = 2048;
const LARGE_SIZE = Number(process.env["BENCH_HTTP_LARGE_MIB"] ?? 256) * MiB;
const FOLDERS = 20;
const CONCURRENCY = 16; // every client that has a setting for it
const STREAMS = 4; // rclone's default multi-thread streams
const ROUNDS = 3; // runs per client; the median is reported
// The large read's wall time swings 2x from run to run on a busy machine: more runs, same median rule.
const LARGE_ROUNDS = 5;

for (const tool of ["rclone", "wget", "nginx", "/usr/bin/time"]) {
  if (!(await findExecutable(tool)) && !(await findExecutable(`/usr/sbin/${tool}`))) {
    console.error(`${tool} is missing: apt-get install -y rclone wget nginx-light time`);
    process.exit(1);
  }
}

const gc = globalThis.gc ?? (() => {});
const work = await mkdtemp(join(tmpdir(), "ws-http-bench-"));
const root = join(work, "www");

async function inProcess(fn) {
  gc();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const detail = await fn();
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1e6, detail };
}

async function external(command, args, env = process.env) {
  const timing = join(work, "time.txt");
  const start = performance.now();
  const { stdout } = await run("/usr/bin/time", ["-f", "%U %S %M", "-o", timing, command, ...args], {
    env,
    maxBuffer: 64 * MiB,
    timeout: 600_000,
  });
  const wall = (performance.now() - start) / 1000;
  const [user, sys, maxKiB] = (await import("node:fs"))
    .readFileSync(timing, "utf8")
    .trim()
    .split(/\s+/)
    .slice(-3)
    .map(Number);
  return { wall, cpu: user + sys, rssMiB: maxKiB / 1024, detail: stdout };
}

async function countFiles(dir) {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  return n;
}

function expectCount(label, got, want) {
  if (got !== want) throw new Error(`${label}: expected ${want}, got ${got}`);
}

const results = { small: {}, large: {}, load: {} };
const cpus = (await import("node:os")).availableParallelism();
let json;
let html;
try {
  // Seeding is not measured.
  const body = new Uint8Array(SMALL_SIZE).fill(7);
  for (let f = 0; f < FOLDERS; f++)
    await mkdir(join(root, "small", `d${String(f).padStart(2, "0")}`), { recursive: true });
  for (let i = 0; i < FILES; i++) {
    await writeFile(
      join(root, "small", `d${String(i % FOLDERS).padStart(2, "0")}`, `f${String(i).padStart(5, "0")}.bin`),
      body,
    );
  }
  await mkdir(join(root, "large"), { recursive: true });
  await mkdir(join(root, "warm"), { recursive: true });
  await writeFile(join(root, "warm", "warm.bin"), new Uint8Array(4 * MiB).fill(1));
  {
    const large = new Uint8Array(LARGE_SIZE);
    for (let i = 0; i < large.length; i += 4096) large[i] = i & 0xff;
    await writeFile(join(root, "large", "big.bin"), large);
  }
  json = await startNginx({ root, autoindex: "json" });
  html = await startNginx({ root, autoindex: "html" });
  console.log(
    `nginx json ${json.url}, html ${html.url}; ${FILES} x ${SMALL_SIZE} B + ${LARGE_SIZE / MiB} MiB`,
  );

  const rcloneEnv = {
    ...process.env,
    RCLONE_CONFIG: join(work, "rclone.conf"),
    RCLONE_CONFIG_NG_TYPE: "http",
    RCLONE_CONFIG_NG_URL: html.url,
  };

  // Warm-up, unmeasured: the JIT for HttpTree's code paths and nginx's file cache.
  {
    const ws = new Workspace({
      mounts: { "/w": HttpTree(`${json.url}small/`, { concurrency: CONCURRENCY }) },
    });
    await ws.prefetch("/w", { concurrency: CONCURRENCY });
    await ws.close();
  }

  // Every client runs ROUNDS (large: LARGE_ROUNDS) times, the clients interleaved round by round, and the run with the
  // median wall time is reported: on a shared machine one run alone says little.
  const load = () => loadavg()[0].toFixed(1);
  async function rounds(phase, clients, count = ROUNDS) {
    const loads = [load()];
    const runs = Object.fromEntries(Object.keys(clients).map((name) => [name, []]));
    for (let round = 0; round < count; round++) {
      for (const [name, once] of Object.entries(clients)) {
        runs[name].push(await once());
        gc();
      }
    }
    for (const [name, list] of Object.entries(runs)) {
      const sorted = [...list].sort((a, b) => a.wall - b.wall);
      const { detail: _detail, ...picked } = sorted[Math.floor(sorted.length / 2)];
      results[phase][name] = { ...picked, walls: list.map((r) => Number(r.wall.toFixed(3))) };
      console.log(`${phase} ${name}: ${list.map((r) => r.wall.toFixed(2)).join(" / ")} s`);
    }
    loads.push(load());
    results.load[phase] = `${loads[0]} -> ${loads[1]}`;
    console.log(`${phase}: load average (1 min) ${results.load[phase]} on ${cpus} cores`);
  }

  // ---- small files: index + cold read --------------------------------------------------------
  const treeRun = (label, server) => async () => {
    const ws = new Workspace({
      mounts: { "/s": HttpTree(`${server.url}small/`, { concurrency: CONCURRENCY }) },
      concurrency: CONCURRENCY,
    });
    const index = await inProcess(async () => {
      expectCount(`${label} index`, (await ws.fs.readdir("/s")).length, FOLDERS);
    });
    const read = await inProcess(async () => {
      await ws.prefetch("/s", { concurrency: CONCURRENCY });
      expectCount(`${label} bytes`, ws.stats.bytesIn, FILES * SMALL_SIZE);
    });
    await ws.close();
    return { wall: index.wall + read.wall, cpu: index.cpu + read.cpu, indexWall: index.wall };
  };
  await rounds("small", {
    httpTreeJson: treeRun("HttpTree json", json),
    httpTreeHtml: treeRun("HttpTree html", html),
    rclone: async () => {
      const rcloneDir = join(work, "rclone-small");
      const r = await external(
        "rclone",
        [
          "copy",
          "ng:small",
          rcloneDir,
          "--transfers",
          String(CONCURRENCY),
          "--checkers",
          String(CONCURRENCY),
        ],
        rcloneEnv,
      );
      expectCount("rclone copy files", await countFiles(rcloneDir), FILES);
      await rm(rcloneDir, { recursive: true, force: true });
      return r;
    },
    wget: async () => {
      const wgetDir = join(work, "wget-small");
      const r = await external("wget", [
        "-r",
        "-np",
        "-nH",
        "-q",
        "-e",
        "robots=off",
        "-R",
        "index.html*",
        "-P",
        wgetDir,
        `${html.url}small/`,
      ]);
      expectCount("wget -r files", await countFiles(join(wgetDir, "small")), FILES);
      await rm(wgetDir, { recursive: true, force: true });
      return r;
    },
  });

  // ---- one large file ------------------------------------------------------------------------
  const child = (how, streams) => async () => {
    const { stdout } = await run(
      process.execPath,
      [
        "--expose-gc",
        new URL(import.meta.url).pathname,
        "--large-child",
        how,
        `${json.url}large/`,
        String(LARGE_SIZE),
        String(streams),
      ],
      { maxBuffer: MiB, timeout: 600_000 },
    );
    return JSON.parse(stdout);
  };
  await rounds(
    "large",
    {
      httpTree: child("fetch", STREAMS),
      httpTreeSingleGet: child("fetch", 1),
      workspaceHydrate: child("hydrate", STREAMS),
      workspaceReadFile: child("readFile", STREAMS),
      rclone: async () => {
        const rcloneLarge = join(work, "rclone-large");
        const r = await external(
          "rclone",
          [
            "copy",
            "ng:large/big.bin",
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
      },
      wget: async () => {
        const wgetLarge = join(work, "wget-large.bin");
        const r = await external("wget", ["-q", "-O", wgetLarge, `${html.url}large/big.bin`]);
        await rm(wgetLarge, { force: true });
        return r;
      },
    },
    LARGE_ROUNDS,
  );
} finally {
  await json?.stop();
  await html?.stop();
  await rm(work, { recursive: true, force: true });
}

// ---- report ------------------------------------------------------------------------------------
const ratio = (a, b) => Number((a / b).toFixed(2));
const table = [];
for (const phase of ["small", "large"]) {
  const rows = results[phase];
  for (const [client, r] of Object.entries(rows)) {
    table.push({
      phase,
      client,
      "wall s": Number(r.wall.toFixed(2)),
      "client CPU s": Number(r.cpu.toFixed(2)),
      ...(r.indexWall !== undefined ? { "of which index s": Number(r.indexWall.toFixed(2)) } : {}),
      ...(r.rssMiB !== undefined ? { "peak RSS MiB": Math.round(r.rssMiB) } : {}),
      ...(r.rssBeforeMiB !== undefined ? { "RSS before the read MiB": Math.round(r.rssBeforeMiB) } : {}),
    });
  }
}
console.table(table);
const { small, large } = results;
const ratios = {
  "small (index + cold read) wall: HttpTree json / rclone copy (target < 1)": ratio(
    small.httpTreeJson.wall,
    small.rclone.wall,
  ),
  "small wall: HttpTree html index / rclone copy": ratio(small.httpTreeHtml.wall, small.rclone.wall),
  "small wall: HttpTree json / wget -r": ratio(small.httpTreeJson.wall, small.wget.wall),
  "small CPU: HttpTree json / rclone copy": ratio(small.httpTreeJson.cpu, small.rclone.cpu),
  "large wall: HttpTree.fetch / rclone multi-thread copy (target <= 1)": ratio(
    large.httpTree.wall,
    large.rclone.wall,
  ),
  "large wall: Workspace hydrate / rclone multi-thread copy (target <= 1)": ratio(
    large.workspaceHydrate.wall,
    large.rclone.wall,
  ),
  "large wall: Workspace readFile (hydrate + memfs copy out) / rclone": ratio(
    large.workspaceReadFile.wall,
    large.rclone.wall,
  ),
  "large wall: HttpTree.fetch one GET / rclone multi-thread copy": ratio(
    large.httpTreeSingleGet.wall,
    large.rclone.wall,
  ),
  "large wall: HttpTree.fetch / wget": ratio(large.httpTree.wall, large.wget.wall),
  "large CPU: HttpTree.fetch / rclone": ratio(large.httpTree.cpu, large.rclone.cpu),
  "large peak RSS: HttpTree.fetch / rclone": ratio(large.httpTree.rssMiB, large.rclone.rssMiB),
  "large peak RSS: Workspace readFile / rclone": ratio(large.workspaceReadFile.rssMiB, large.rclone.rssMiB),
};
console.table(Object.entries(ratios).map(([name, value]) => ({ ratio: name, value })));
const out = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "results", "http.json");
await writeFile(
  out,
  `${JSON.stringify({ files: FILES, smallSize: SMALL_SIZE, largeSize: LARGE_SIZE, results, ratios }, null, 2)}\n`,
);
console.log(`wrote ${out}`);
// Keep-alive sockets of the shared pools would hold the process open for their idle timeout.
process.exit(0);
