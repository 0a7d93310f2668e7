// The `ws` command against the plain tools, as child processes over a 10,000-file host directory:
//   1. `find` + `cat` of every file, run directly vs through `ws run` (read-only mount), with the
//      bubblewrap sandbox (the directory is bound in place) and without it (a copy is made);
//   2. `ws run -- true` (the fixed cost of ws: node start, index, sandbox) vs `true`, and what of
//      it is node's own start (`node -e 0`) and loading the CLI (`ws --version`);
//   3. `ws cp DIR DEST` vs `cp -r DIR DEST`.
// Targets (issue 14): ws run startup overhead under 0.3 s beyond the command's own time; ws cp at
// most 2x cp -r (wall time; the CPU time of both is printed beside it). Reports medians and ratios,
// never asserts. Run by `npm run bench -- cli`.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const WS = join(here, "../packages/cli/dist/bin.js");
const FILES = Number(process.env.BENCH_CLI_FILES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_CLI_ROUNDS ?? 5);

const loadStart = loadavg();
const work = mkdtempSync(join(tmpdir(), "ws-bench-cli-"));
const src = join(work, "src");
let bytes = 0;
for (let i = 0; i < FILES; i++) {
  const dir = join(src, `d${String(Math.floor(i / 100)).padStart(3, "0")}`);
  if (i % 100 === 0) mkdirSync(dir, { recursive: true });
  const body = `file ${i}\n${"x".repeat(200 + (i % 1800))}\n`;
  bytes += body.length;
  writeFileSync(join(dir, `f${i}.txt`), body);
}

// CPU time (user + system) of the children this process has waited for, in ms, from
// /proc/self/stat (cutime + cstime, in clock ticks of 10 ms); undefined off Linux. The wall-time
// ratio is the target; the CPU one says how much work each side did, which a loaded machine
// distorts less (a multi-threaded `ws cp` gets more of a busy machine than a single-threaded `cp`).
function childCpuMs() {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return undefined;
  }
}
let lastCpuMs;

function time(cmd, args, options = {}) {
  const cpu = childCpuMs();
  const t = performance.now();
  const r = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"], ...options });
  const ms = performance.now() - t;
  const cpuAfter = childCpuMs();
  lastCpuMs = cpu === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpu;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(name, fn, before) {
  const samples = [];
  const cpu = [];
  fn(); // warm the page cache and node's compile cache
  for (let i = 0; i < ROUNDS; i++) {
    before?.();
    samples.push(fn());
    if (lastCpuMs !== undefined) cpu.push(lastCpuMs);
  }
  return { name, ms: median(samples), samples, ...(cpu.length ? { cpuMs: median(cpu) } : {}) };
}

const job = "find . -type f | wc -l >/dev/null && find . -type f -exec cat {} + >/dev/null";
const probe = spawnSync("bwrap", ["--ro-bind", "/", "/", "true"]);
const haveBwrap = probe.status === 0;
const results = [];

const direct = measure("find + cat, direct", () => time("sh", ["-c", job], { cwd: src }));
results.push(direct);
const wsRun = (sandbox) => () =>
  time(process.execPath, [
    WS,
    "run",
    "-q",
    "--sandbox",
    sandbox,
    "-m",
    `${src}:/data`,
    "-w",
    "/data",
    "--",
    "sh",
    "-c",
    job,
  ]);
const viaBwrap = haveBwrap
  ? measure("find + cat, ws run (bwrap, bound in place)", wsRun("bwrap"))
  : undefined;
if (viaBwrap) results.push(viaBwrap);
const viaCopy = measure("find + cat, ws run --sandbox none (copy)", wsRun("none"));
results.push(viaCopy);
const trueDirect = measure("true, direct", () => time("true", []));
const trueWs = measure("true, ws run (bwrap if available)", () =>
  time(process.execPath, [WS, "run", "-q", "-m", `${src}:/data`, "--", "true"]),
);
results.push(trueDirect, trueWs);
const nodeStart = measure("node -e 0 (node's own start)", () => time(process.execPath, ["-e", "0"]));
results.push(nodeStart);
const wsLoad = measure("ws --version (node + loading the CLI)", () =>
  time(process.execPath, [WS, "--version"]),
);
results.push(wsLoad);

const dest = join(work, "dest");
const clear = () => rmSync(dest, { recursive: true, force: true });
const cpR = measure("cp -r", () => time("cp", ["-r", src, dest]), clear);
const wsCp = measure("ws cp", () => time(process.execPath, [WS, "cp", "-q", src, dest]), clear);
results.push(cpR, wsCp);
clear();

const fmt = (ms) => `${(ms / 1000).toFixed(3)} s`;
console.log(`load average at the start: ${loadStart.map((l) => l.toFixed(2)).join(", ")} (1, 5, 15 min)`);
console.log(
  `${FILES} files, ${(bytes / 1e6).toFixed(1)} MB, median of ${ROUNDS} (bubblewrap: ${haveBwrap ? "yes" : "no"})`,
);
for (const r of results) console.log(`  ${r.name.padEnd(48)} ${fmt(r.ms)}`);
const overhead = (viaBwrap ?? viaCopy).ms - direct.ms;
console.log("");
console.log(
  `ws run overhead, find + cat: ${fmt(overhead)} (${viaBwrap ? "bwrap" : "copy"}; target < 0.300 s) -> ${overhead < 300 ? "met" : "MISSED"}`,
);
console.log(`ws run overhead without a sandbox (copy in and out): ${fmt(viaCopy.ms - direct.ms)}`);
console.log(
  `ws run -- true vs true: ${fmt(trueWs.ms - trueDirect.ms)} (of which node's own start: ${fmt(nodeStart.ms)}; ws's own on top of node: ${fmt(trueWs.ms - trueDirect.ms - nodeStart.ms)}, of which loading the CLI: ${fmt(wsLoad.ms - nodeStart.ms)})`,
);
const [l1, l5] = loadavg();
console.log(
  `load average at the end: ${l1.toFixed(2)} (1 min), ${l5.toFixed(2)} (5 min) on ${availableParallelism()} cores`,
);
const ratio = wsCp.ms / cpR.ms;
console.log(`ws cp / cp -r: ${ratio.toFixed(2)}x (target <= 2x) -> ${ratio <= 2 ? "met" : "MISSED"}`);
const cpuRatio = wsCp.cpuMs !== undefined && cpR.cpuMs ? wsCp.cpuMs / cpR.cpuMs : undefined;
if (cpuRatio !== undefined) {
  console.log(
    `ws cp / cp -r, CPU time (user + system): ${fmt(wsCp.cpuMs)} vs ${fmt(cpR.cpuMs)} = ${cpuRatio.toFixed(2)}x (not the target; less distorted by load)`,
  );
}

mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(
  join(here, "results", "cli.json"),
  JSON.stringify(
    {
      files: FILES,
      bytes,
      rounds: ROUNDS,
      bwrap: haveBwrap,
      loadStart,
      loadEnd: loadavg(),
      results,
      overheadMs: overhead,
      cpRatio: ratio,
      cpCpuRatio: cpuRatio,
    },
    null,
    2,
  ),
);
rmSync(work, { recursive: true, force: true });
