// GitHubRepo (eager, its own smart-HTTP client) and GitHubTree (lazy, REST) vs native `git clone --depth 1`,
// all against servers started here on 127.0.0.1: git's own http-backend behind a Node wrapper for
// the clones, and the REST server over the same bare repository (real git) for GitHubTree.
// Run by `npm run bench -- github` (built packages).
//
//   eager:  GitHubRepo.materialize of the whole repository vs `git clone --depth 1 --single-branch
//           --no-tags`: wall time and peak memory (targets: wall <= 2.0x native, peak <= 4x pack)
//   lazy:   GitHubTree time to the first file read (list + one fetch) and to a full read (list +
//           every fetch, 16 at a time) vs the same native clone (target: first read <= 0.2x)
//
// Every client runs in its own child process, so the servers (in this process) never share its
// event loop and its peak RSS is its own. Each measurement is the median of RUNS runs.
// The repository: BENCH_GITHUB_FILES (default 3000) real text files from this repository's
// node_modules, committed with git fast-import.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  buildRealFilesRepo,
  commitTree,
  findExecutable,
  initBareRepo,
  startGitHttp,
  startGitHubRest,
} from "@ws/test-servers";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "..");
const run = promisify(execFile);
const FILES = Number(process.env["BENCH_GITHUB_FILES"] ?? 3000);
const RUNS = Number(process.env["BENCH_GITHUB_RUNS"] ?? 3);
const MiB = 1024 * 1024;

for (const tool of ["git", "/usr/bin/time"]) {
  if (!(await findExecutable(tool))) {
    console.error(`${tool} is missing: apt-get install -y git time`);
    process.exit(1);
  }
}

const work = await mkdtemp(join(tmpdir(), "ws-github-bench-"));
const projectRoot = join(work, "repos");
const built = await buildRealFilesRepo(join(projectRoot, "acme", "many.git"), {
  sourceRoots: [join(repoRoot, "node_modules")],
  count: FILES,
});
// A one-file repository: the same code paths with next to no data, so its peak over Node's
// baseline is the fixed cost (Node's fetch loading on first use, the V8 heap growing), which the
// data-dependent share subtracts.
await initBareRepo(join(projectRoot, "acme", "tiny.git"));
await commitTree(join(projectRoot, "acme", "tiny.git"), {
  "a.txt": { type: "file", bytes: Buffer.from("a\n") },
});
const http = await startGitHttp({ projectRoot });
// Validation against the OpenAPI description is the tests' job; here it would only slow the server.
const rest = await startGitHubRest({ projectRoot, validate: false });
const url = `${http.url}/acme/many.git`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Native git in its own process, measured by GNU time: wall seconds and peak RSS. */
async function nativeClone(i) {
  const dest = join(work, `native-${i}`);
  const { stderr } = await run(
    "/usr/bin/time",
    ["-f", "WSBENCH %e %M", "git", "clone", "-q", "--depth", "1", "--single-branch", "--no-tags", url, dest],
    { env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" } },
  );
  const [, wall, rssKb] = /WSBENCH (\S+) (\d+)/.exec(stderr) ?? [];
  const packDir = join(dest, ".git", "objects", "pack");
  let packBytes = 0;
  for (const name of await readdir(packDir)) {
    if (name.endsWith(".pack")) packBytes += (await stat(join(packDir, name))).size;
  }
  await rm(dest, { recursive: true, force: true });
  return { wall: Number(wall), rss: Number(rssKb) * 1024, packBytes };
}

/** One client run in a child Node process; it prints one JSON line. */
async function child(source) {
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", source], {
    cwd: repoRoot,
    maxBuffer: 16 * MiB,
  });
  return JSON.parse(stdout.trim().split("\n").pop());
}

// keep: the writer holds every file it is handed, as a host does (memfs keeps them); without it
// the files are dropped, and the peak still counts those the collector had not freed yet.
const EAGER = (repo, keep = false) => `
import { GitHubRepo } from "@ws/mount-github";
const baseline = process.memoryUsage().rss;
const started = performance.now();
let files = 0, bytes = 0;
const kept = [];
await GitHubRepo("acme/${repo}", { url: ${JSON.stringify(`${http.url}/acme/`)} + "${repo}.git" }).materialize({
  root: "/bench",
  writeFile(_p, b) { files++; bytes += b.length; if (${keep}) kept.push(b); },
  mkdir() {},
  symlink() {},
});
const wall = (performance.now() - started) / 1000;
console.log(JSON.stringify({ wall, files, bytes, rss: process.resourceUsage().maxRSS * 1024, baseline }));
`;

const LAZY = (full) => `
import { GitHubTree } from "@ws/mount-github";
const started = performance.now();
const mount = GitHubTree("acme/many", { baseUrl: ${JSON.stringify(rest.url)} });
const entries = await mount.list();
let bytes = 0;
if (${full}) {
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < entries.length) bytes += (await mount.fetch(entries[next++].path)).length;
  }));
} else {
  bytes = (await mount.fetch(entries[0].path)).length;
}
const wall = (performance.now() - started) / 1000;
console.log(JSON.stringify({ wall, files: ${full} ? entries.length : 1, bytes, requests: mount.stats.requests, rss: process.resourceUsage().maxRSS * 1024 }));
`;

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
const loadBefore = load();

try {
  const natives = [];
  const eagers = [];
  const keeps = [];
  const tinies = [];
  const firsts = [];
  const fulls = [];
  for (let i = 0; i < RUNS; i++) {
    natives.push(await nativeClone(i));
    eagers.push(await child(EAGER("many")));
    keeps.push(await child(EAGER("many", true)));
    tinies.push(await child(EAGER("tiny")));
    firsts.push(await child(LAZY(false)));
    fulls.push(await child(LAZY(true)));
  }
  const native = { wall: median(natives.map((n) => n.wall)), rss: median(natives.map((n) => n.rss)) };
  const packBytes = natives[0].packBytes;
  const eager = {
    wall: median(eagers.map((e) => e.wall)),
    rss: median(eagers.map((e) => e.rss)),
    overBaseline: median(eagers.map((e) => e.rss - e.baseline)),
  };
  const fixed = median(tinies.map((e) => e.rss - e.baseline));
  // The mount's own peak beyond the files it produced: over the baseline, minus the content held.
  const keptOver = median(keeps.map((e) => e.rss - e.baseline - e.bytes));
  const first = median(firsts.map((f) => f.wall));
  const full = median(fulls.map((f) => f.wall));
  const fmt = (s) => `${s.toFixed(3)} s`;
  const mib = (b) => `${(b / MiB).toFixed(1)} MiB`;
  const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
  const loadAfter = load();
  console.log(
    `repository: ${built.files} files, ${mib(built.bytes)} of content; pack ${mib(packBytes)}; median of ${RUNS} runs`,
  );
  // The machine is shared: every number below is only as good as how busy it was.
  console.log(`load average (1, 5, 15 min): ${loadBefore} before, ${loadAfter} after`);
  console.table([
    {
      client: "git clone --depth 1 (native)",
      wall: fmt(native.wall),
      "peak RSS": mib(native.rss),
      ratio: "1.00x",
    },
    {
      client: "GitHubRepo.materialize (eager)",
      wall: fmt(eager.wall),
      "peak RSS": `${mib(eager.rss)} (${mib(eager.overBaseline)} over Node's baseline)`,
      ratio: ratio(eager.wall, native.wall),
    },
    {
      client: "GitHubRepo.materialize, files kept by the writer",
      wall: fmt(median(keeps.map((e) => e.wall))),
      "peak RSS": `${mib(median(keeps.map((e) => e.rss)))} (${mib(keptOver)} over baseline + the ${mib(keeps[0].bytes)} kept)`,
      ratio: ratio(median(keeps.map((e) => e.wall)), native.wall),
    },
    {
      client: "GitHubTree first read (list + 1 fetch)",
      wall: fmt(first),
      "peak RSS": mib(median(firsts.map((f) => f.rss))),
      ratio: ratio(first, native.wall),
    },
    {
      client: `GitHubTree full read (list + ${fulls[0].files} fetches, 16 at a time)`,
      wall: fmt(full),
      "peak RSS": mib(median(fulls.map((f) => f.rss))),
      ratio: ratio(full, native.wall),
    },
  ]);
  const verdict = (ok) => (ok ? "met" : "MISSED");
  console.log(
    `eager wall ${ratio(eager.wall, native.wall)} of native (target <= 2.00x: ${verdict(eager.wall <= 2 * native.wall)}); ` +
      `eager peak RSS ${ratio(eager.rss, packBytes)} of the pack, ${ratio(eager.overBaseline, packBytes)} over Node's baseline (target <= 4x: ${verdict(eager.overBaseline <= 4 * packBytes)}), ` +
      `${ratio(eager.overBaseline - fixed, packBytes)} over the one-file repository's ${mib(fixed)} fixed cost; ` +
      `with the files kept by the writer, ${ratio(keptOver, packBytes)} of the pack over the baseline and the content kept (target <= 4x: ${verdict(keptOver <= 4 * packBytes)}); ` +
      `lazy first read ${ratio(first, native.wall)} of native (target <= 0.20x: ${verdict(first <= 0.2 * native.wall)})`,
  );
  const { mkdir, writeFile } = await import("node:fs/promises");
  await mkdir(join(here, "results"), { recursive: true });
  await writeFile(
    join(here, "results", "github.json"),
    JSON.stringify(
      {
        files: built.files,
        contentBytes: built.bytes,
        packBytes,
        runs: RUNS,
        load: { before: loadBefore, after: loadAfter },
        native,
        eager: { ...eager, fixedOverBaseline: fixed, keptOverBaselineAndContent: keptOver },
        lazy: { first, full },
      },
      null,
      2,
    ),
  );
} finally {
  await http.stop();
  await rest.stop();
  await rm(work, { recursive: true, force: true });
}
