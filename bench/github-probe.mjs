// Where the eager GitHubRepo mount's peak memory comes from: one clone of the benchmark's repository
// in a child process (with --trace-gc), whose RSS this process samples from /proc every 5 ms, and
// which prints process.memoryUsage() and its anonymous RSS (RssAnon) at the end of each phase
// (fetch, index, walk), then the RssAnon added by each phase.
// Run: node bench/github-probe.mjs [--keep] [--ticks] [--tiny] [extra node flags for the child...]
// --tiny clones a one-file repository instead (the same code paths with next to no data). Passing
// --single-threaded (a flag for the child) runs V8 without its background threads: the phases are
// then steady from run to run, which tells the mount's own memory from those threads' noise.
// --ticks also prints process.memoryUsage() every 10 ms; those calls allocate on the V8 heap
// themselves (and so move the collections this probe is meant to show), hence off by default.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildRealFilesRepo, commitTree, initBareRepo, startGitHttp } from "@ws/test-servers";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "..");
const keep = process.argv.includes("--keep");
const ticks = process.argv.includes("--ticks");
const tiny = process.argv.includes("--tiny");
const flags = process.argv.slice(2).filter((a) => a !== "--keep" && a !== "--ticks" && a !== "--tiny");
const work = await mkdtemp(join(tmpdir(), "ws-github-probe-"));
await buildRealFilesRepo(join(work, "acme", "many.git"), {
  sourceRoots: [join(repoRoot, "node_modules")],
  count: Number(process.env["BENCH_GITHUB_FILES"] ?? 3000),
});
await initBareRepo(join(work, "acme", "tiny.git"));
await commitTree(join(work, "acme", "tiny.git"), { "a.txt": { type: "file", bytes: Buffer.from("a\n") } });
const repo = tiny ? "tiny" : "many";
const http = await startGitHttp({ projectRoot: work });
const dist = join(repoRoot, "packages", "mount-github", "dist");
const source = `
const { GitFetchClient } = await import(${JSON.stringify(join(dist, "git-fetch.js"))});
const { GitTransport } = await import(${JSON.stringify(join(dist, "git-transport.js"))});
const { PackStore } = await import(${JSON.stringify(join(dist, "pack-store.js"))});
const { GitHubRepo } = await import(${JSON.stringify(join(dist, "index.js"))});
const MiB = 1024 * 1024;
const v8 = await import("node:v8");
const { readFileSync } = await import("node:fs");
const rssAnon = () => Number(/RssAnon:\\s+(\\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) / 1024;
const t0 = performance.now();
const mark = (phase) => {
  process.stderr.write("WALL " + phase + " " + Date.now() + "\\n");
  const m = process.memoryUsage();
  console.error("PHASE " + JSON.stringify({ phase, t: performance.now(), rss: m.rss / MiB, rssAnon: rssAnon(), heapUsed: m.heapUsed / MiB, heapTotal: m.heapTotal / MiB, external: m.external / MiB, arrayBuffers: m.arrayBuffers / MiB, newSpace: (v8.getHeapSpaceStatistics().find((x) => x.space_name === "new_space")?.space_size ?? 0) / MiB }));
};
mark("baseline");
const fetchPack = GitFetchClient.prototype.fetchPack;
GitFetchClient.prototype.fetchPack = async function (...a) { mark("fetch-start"); const r = await fetchPack.apply(this, a); mark("fetched"); return r; };
const index = PackStore.index;
PackStore.index = (...a) => { const r = index(...a); mark("indexed"); return r; };
const timer = ${ticks} ? setInterval(() => mark("tick"), 10) : undefined;
const kept = [];
await GitHubRepo("acme/${repo}", { url: ${JSON.stringify(`${http.url}/acme/${repo}.git`)} }).materialize({
  root: "/bench",
  writeFile(_p, b) { if (${keep}) kept.push(b); },
  mkdir() {}, symlink() {},
});
mark("end"); clearInterval(timer);
console.log(JSON.stringify({ maxRSS: process.resourceUsage().maxRSS / 1024 }));
`;
const child = spawn(process.execPath, ["--trace-gc", ...flags, "--input-type=module", "-e", source], {
  cwd: repoRoot,
  stdio: ["ignore", "pipe", "pipe"],
});
const samples = [];
const t0 = performance.now();
const wall0 = Date.now() - t0;
const poll = setInterval(async () => {
  try {
    const status = await readFile(`/proc/${child.pid}/status`, "utf8");
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    if (kb) samples.push([performance.now() - t0, kb / 1024]);
  } catch {}
}, 5);
let out = "";
let err = "";
child.stdout.on("data", (c) => (out += c));
child.stderr.on("data", (c) => (err += c));
await new Promise((r) => child.on("close", r));
clearInterval(poll);
console.log(out.trim());
if (!out.trim()) console.log(err.slice(-3000));
for (const line of (out + err).split("\n")) {
  if (line.startsWith("WALL") && !line.includes("tick")) {
    const [, ph, w] = line.split(" ");
    console.log("at parent ms", (Number(w) - wall0).toFixed(0), ph);
  }
  if (line.startsWith("PHASE") || /Scavenge|Mark-Compact|Mark-sweep/.test(line))
    console.log(line.replace(/\s+/g, " "));
}
// RssAnon added by each phase (of the phases, not the 10 ms ticks).
const phases = (out + err)
  .split("\n")
  .filter((line) => line.startsWith("PHASE") && !line.includes('"tick"'))
  .map((line) => JSON.parse(line.slice(6)));
console.log(
  `RssAnon: ${phases
    .map((p, i) =>
      i === 0
        ? `baseline ${p.rssAnon.toFixed(2)} MiB`
        : `${p.phase} ${p.rssAnon - phases[i - 1].rssAnon >= 0 ? "+" : ""}${(p.rssAnon - phases[i - 1].rssAnon).toFixed(2)}`,
    )
    .join(", ")} (in all ${((phases.at(-1)?.rssAnon ?? 0) - (phases[0]?.rssAnon ?? 0)).toFixed(2)} MiB)`,
);
const peak = samples.reduce((a, b) => (b[1] > a[1] ? b : a), [0, 0]);
console.log(
  `sampled peak VmRSS ${peak[1].toFixed(1)} MiB at ${peak[0].toFixed(0)} ms (parent clock); samples:`,
);
const step = Math.max(1, Math.floor(samples.length / 60));
console.log(
  samples
    .filter((_, i) => i % step === 0)
    .map(([t, m]) => `${t.toFixed(0)}:${m.toFixed(1)}`)
    .join(" "),
);
await http.stop();
await rm(work, { recursive: true, force: true });
