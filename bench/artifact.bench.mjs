// ArtifactBundle through a Workspace vs the native tools: a 10,000-file tar.gz (about 100 MB
// inflated) and the same tree as a zip, mounted with ArtifactBundle (read, verify, inflate, check,
// write into the workspace's memfs) vs `tar xzf` and `unzip -q` into a tmpfs directory (/dev/shm).
// Each measurement runs in its own process (3 runs, median wall, peak RSS of the run). Run by
// `npm run bench -- artifact` against the built packages; reports, never asserts.
// Scale down for a quick try: BENCH_ARTIFACT_FILES=1000 npm run bench -- artifact
import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const FILES = Number(process.env.BENCH_ARTIFACT_FILES ?? 10_000);
const RUNS = 3;
const MiB = 1024 * 1024;

if (process.argv[2] === "--child") {
  // One mount through a Workspace, in a fresh process so that peak RSS belongs to this run alone.
  const { ArtifactBundle } = await import("@ws/mount-artifact");
  const { Workspace } = await import("@ws/workspace");
  const file = process.argv[3];
  if (process.argv[4] === "--provider") {
    // The provider alone: read, verify, inflate and check, writing into a no-op API.
    const c0 = process.cpuUsage();
    const t = performance.now();
    const noop = { root: "/bundle", writeFile() {}, mkdir() {}, symlink() {} };
    await ArtifactBundle(file).materialize(noop);
    const ms = performance.now() - t;
    process.stdout.write(JSON.stringify({ ms, mountCpuS: cpuSince(c0), ...usage() }));
    process.exit(0);
  }
  const c0 = process.cpuUsage();
  const t = performance.now();
  const ws = new Workspace({ mounts: { "/bundle": ArtifactBundle(file) } });
  await ws.fs.stat("/bundle");
  const ms = performance.now() - t;
  const mountCpuS = cpuSince(c0);
  const probe = await ws.fs.readFile("/bundle/d0/f0.txt");
  if (probe.length === 0) throw new Error("empty probe file");
  await ws.close();
  process.stdout.write(JSON.stringify({ ms, mountCpuS, ...usage() }));
  process.exit(0);
}

/** CPU seconds (every thread) since `start`: the mount itself, without Node's start and module loading. */
function cpuSince(start) {
  const c = process.cpuUsage(start);
  return (c.user + c.system) / 1e6;
}

/** Peak RSS and CPU seconds (user + system, every thread: gunzip runs in the thread pool) of this process. */
function usage() {
  const u = process.resourceUsage();
  return { maxRssKiB: u.maxRSS, cpuS: (u.userCPUTime + u.systemCPUTime) / 1e6 };
}

for (const tool of ["tar", "unzip", "zip", "/usr/bin/time"]) {
  const found = spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
  if (!found) {
    console.error(`${tool} is missing: apt-get install -y --no-install-recommends tar zip unzip time`);
    process.exit(1);
  }
}

// A deterministic tree: 100 files per folder, sizes 1-19 KiB of word-like text (compresses about 3:1,
// like source code and documents).
function makeTree(dir) {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const words = Array.from({ length: 2048 }, (_, i) =>
    Array.from({ length: 2 + (i % 9) }, (_, j) => String.fromCharCode(97 + ((i * 7 + j * 13) % 26))).join(""),
  );
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const folder = join(dir, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(folder, { recursive: true });
    const size = 1024 + (rand() % (18 * 1024));
    let text = "";
    while (text.length < size) text += `${words[rand() % words.length]}${rand() % 12 === 0 ? "\n" : " "}`;
    text = text.slice(0, size);
    writeFileSync(join(folder, `f${i % 100}.txt`), text, { mode: i % 10 === 0 ? 0o755 : 0o644 });
    bytes += size;
  }
  return bytes;
}

const loadAtStart = loadavg()[0];
const work = mkdtempSync(join(tmpdir(), "ws-artifact-bench-"));
const shm = mkdtempSync(join("/dev/shm", "ws-artifact-bench-"));
try {
  const tree = join(work, "tree");
  const inflated = makeTree(tree);
  const tgz = join(work, "bundle.tar.gz");
  const zip = join(work, "bundle.zip");
  await run("tar", ["-C", tree, "-czf", tgz, "."]);
  await run("sh", ["-c", `cd '${tree}' && zip -qr '${zip}' .`]);
  console.log(
    `${FILES.toLocaleString("en-US")} files, ${(inflated / MiB).toFixed(1)} MiB inflated; ` +
      `tar.gz ${(statSync(tgz).size / MiB).toFixed(1)} MiB, zip ${(statSync(zip).size / MiB).toFixed(1)} MiB`,
  );

  const timed = (argv) => {
    const r = spawnSync("/usr/bin/time", ["-f", "%e %M %U %S", ...argv], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
    const [wall, rss, user, sys] = r.stderr.trim().split("\n").at(-1).split(" ");
    return { ms: Number(wall) * 1000, maxRssKiB: Number(rss), cpuS: Number(user) + Number(sys) };
  };
  const native = (argv, outDir) => {
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir);
    return timed(argv);
  };
  const ours = (file, providerOnly = false) => {
    const args = [fileURLToPath(import.meta.url), "--child", file, ...(providerOnly ? ["--provider"] : [])];
    const r = spawnSync(process.execPath, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`workspace mount failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const median = (runs) => {
    const sorted = [...runs].sort((a, b) => a.ms - b.ms);
    const mid = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    return {
      ms: sorted[Math.floor(sorted.length / 2)].ms,
      maxRssKiB: Math.max(...runs.map((r) => r.maxRssKiB)),
      cpuS: mid(runs.map((r) => r.cpuS)),
      mountCpuS: runs[0].mountCpuS === undefined ? undefined : mid(runs.map((r) => r.mountCpuS)),
    };
  };
  const out = join(shm, "out");
  const rows = [];
  for (const [format, file, nativeName, nativeArgv] of [
    ["tar.gz", tgz, "tar xzf", ["tar", "-xzf", tgz, "-C", out]],
    ["zip", zip, "unzip -q", ["unzip", "-q", zip, "-d", out]],
  ]) {
    const n = [];
    const w = [];
    const p = [];
    for (let i = 0; i < RUNS; i++) {
      n.push(native(nativeArgv, out));
      w.push(ours(file));
      p.push(ours(file, true));
    }
    const nm = median(n);
    const wm = median(w);
    const pm = median(p);
    rows.push({
      format,
      native: nativeName,
      nativeMs: Math.round(nm.ms),
      nativePeakMiB: Math.round(nm.maxRssKiB / 1024),
      workspaceMs: Math.round(wm.ms),
      workspacePeakMiB: Math.round(wm.maxRssKiB / 1024),
      ratio: Number((wm.ms / nm.ms).toFixed(2)),
      providerMs: Math.round(pm.ms),
      providerRatio: Number((pm.ms / nm.ms).toFixed(2)),
      nativeCpuS: Number(nm.cpuS.toFixed(2)),
      workspaceCpuS: Number(wm.cpuS.toFixed(2)),
      cpuRatio: Number((wm.cpuS / nm.cpuS).toFixed(2)),
      providerCpuS: Number(pm.cpuS.toFixed(2)),
      providerCpuRatio: Number((pm.cpuS / nm.cpuS).toFixed(2)),
      workspaceMountCpuS: Number(wm.mountCpuS.toFixed(2)),
      workspaceMountCpuRatio: Number((wm.mountCpuS / nm.cpuS).toFixed(2)),
      providerMountCpuS: Number(pm.mountCpuS.toFixed(2)),
      providerMountCpuRatio: Number((pm.mountCpuS / nm.cpuS).toFixed(2)),
    });
  }
  console.log(
    `\nmedian of ${RUNS} interleaved runs each; load average (1 min) at the start: ${loadAtStart.toFixed(1)}, at the end: ${loadavg()[0].toFixed(1)}`,
  );
  console.log(
    "format  | native (into /dev/shm) | native wall | ArtifactBundle → Workspace | ratio (target ≤ 1.5) | provider alone | ratio | peak RSS native / ours",
  );
  for (const r of rows) {
    console.log(
      `${r.format.padEnd(7)} | ${r.native.padEnd(22)} | ${String(r.nativeMs).padStart(8)} ms | ${String(r.workspaceMs).padStart(23)} ms | ${`${r.ratio}x`.padStart(20)} | ${String(r.providerMs).padStart(11)} ms | ${`${r.providerRatio}x`.padStart(5)} | ${r.nativePeakMiB} MiB / ${r.workspacePeakMiB} MiB`,
    );
  }
  console.log(
    "\nCPU seconds (user + system, whole process; ours includes starting Node and loading the modules):",
  );
  for (const r of rows) {
    console.log(
      `${r.format.padEnd(7)} | ${r.native}: ${r.nativeCpuS} s | ArtifactBundle → Workspace: ${r.workspaceCpuS} s (${r.cpuRatio}x) | provider alone: ${r.providerCpuS} s (${r.providerCpuRatio}x)`,
    );
  }
  console.log(
    "\nCPU seconds of the mount itself (from `new Workspace` to the first answer; no Node start, no module load):",
  );
  for (const r of rows) {
    console.log(
      `${r.format.padEnd(7)} | ${r.native}: ${r.nativeCpuS} s | ArtifactBundle → Workspace: ${r.workspaceMountCpuS} s (${r.workspaceMountCpuRatio}x) | provider alone: ${r.providerMountCpuS} s (${r.providerMountCpuRatio}x)`,
    );
  }
  mkdirSync(join(here, "results"), { recursive: true });
  writeFileSync(
    join(here, "results", "artifact.json"),
    JSON.stringify(
      { files: FILES, inflatedBytes: inflated, runs: RUNS, load: [loadAtStart, loadavg()[0]], rows },
      null,
      2,
    ),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
}
