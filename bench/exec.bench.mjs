// exec as the container side (issue 18 item 7): ten commands in a row over a 5,000-file read-write
// workspace (an S3Bucket on moto), each changing a few files, against the same ten commands run by
// `sh` in a local directory holding the same files. Reports wall time and provider requests per
// command, the first command against the later ones (the lasting exec directory makes later ones
// cheap: only what changed is written before and pulled after), and ratios to the local disk.
// Run by `npm run bench -- exec`. Reports numbers, never asserts timings.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { S3Bucket } from "@ws/mount-s3";
import { s3ClientSettings, startMoto } from "@ws/test-servers";
import { Workspace } from "@ws/workspace";

const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const FILES = Number(process.env["BENCH_EXEC_FILES"] ?? 5000);
const COMMANDS = 10;
const SIZE = 1024;
const FOLDERS = 50;

const pathOf = (i) => `src/d${i % FOLDERS}/f${i}.txt`;
/** Command i: reads a few files, changes three, adds one (the shape of an agent's edit-and-check step). */
function command(i) {
  const a = pathOf(i * 7);
  const b = pathOf(i * 7 + 1);
  const c = pathOf(i * 7 + 2);
  return [
    `cat ${a} ${b} > /dev/null`,
    `echo "edit ${i}" >> ${a}`,
    `sed -i 's/^/# /' ${b}`,
    `printf 'step %d\\n' ${i} > ${c}`,
    `echo ${i} > notes-${i}.txt`,
    `ls src | wc -l > /dev/null`,
  ].join(" && ");
}

const moto = await startMoto();
const work = await mkdtemp(join(tmpdir(), "ws-exec-bench-"));
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
const results = { files: FILES, commands: COMMANDS, loadBefore: load() };
try {
  const clientConfig = s3ClientSettings(moto);
  const seeder = new S3Client(clientConfig);
  await seeder.send(new CreateBucketCommand({ Bucket: "exec" }));
  const body = new Uint8Array(SIZE).fill(97);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < FILES) {
        const i = next++;
        await seeder.send(new PutObjectCommand({ Bucket: "exec", Key: `w/${pathOf(i)}`, Body: body }));
      }
    }),
  );
  seeder.destroy();

  // The local disk: the same tree, the same commands, run by sh in the directory.
  const local = join(work, "local");
  for (let i = 0; i < FILES; i++) {
    mkdirSync(join(local, dirname(pathOf(i))), { recursive: true });
    writeFileSync(join(local, pathOf(i)), body);
  }
  const localRuns = [];
  for (let i = 0; i < COMMANDS; i++) {
    const t = performance.now();
    await run("sh", ["-c", command(i)], { cwd: local });
    localRuns.push(performance.now() - t);
  }

  const ws = new Workspace({
    mounts: { "/w": S3Bucket({ bucket: "exec", prefix: "w", mode: "read-write", clientConfig }) },
  });
  const requests = () => {
    const s = ws.stats;
    return s.listCalls + s.fetches + s.puts + s.deleteRequests;
  };
  const wsRuns = [];
  for (let i = 0; i < COMMANDS; i++) {
    const before = requests();
    const t = performance.now();
    // The first command hydrates the tree (the agent reads and edits stored files); later ones
    // find it in the lasting directory.
    const r = await ws.exec("sh", ["-c", command(i)], { cwd: "/w", ...(i === 0 ? { hydrate: true } : {}) });
    const ms = performance.now() - t;
    if (r.exitCode !== 0 || r.changes.errors.length > 0) {
      throw new Error(`command ${i} failed: ${r.stderr} ${JSON.stringify(r.changes.errors)}`);
    }
    wsRuns.push({ ms, requests: requests() - before, mirrored: r.changes.mirrored.length });
  }
  await ws.close();

  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const later = wsRuns.slice(1);
  results.workspace = {
    firstMs: wsRuns[0].ms,
    firstRequests: wsRuns[0].requests,
    laterMeanMs: mean(later.map((r) => r.ms)),
    laterMeanRequests: mean(later.map((r) => r.requests)),
    runs: wsRuns,
  };
  results.local = { firstMs: localRuns[0], laterMeanMs: mean(localRuns.slice(1)), runs: localRuns };
  results.ratios = {
    firstVsLocal: Number((results.workspace.firstMs / results.local.firstMs).toFixed(1)),
    laterVsLocal: Number((results.workspace.laterMeanMs / results.local.laterMeanMs).toFixed(1)),
    laterVsFirst: Number((results.workspace.laterMeanMs / results.workspace.firstMs).toFixed(3)),
  };
  results.loadAfter = load();
} finally {
  await moto.stop();
  await rm(work, { recursive: true, force: true });
}

const f = (ms) => `${ms.toFixed(0)} ms`;
console.log(
  `exec over ${FILES} files (S3Bucket on moto, read-write) vs sh on local disk, ${COMMANDS} commands`,
);
console.log(`load average before ${results.loadBefore}, after ${results.loadAfter}`);
console.log("cmd  workspace  requests  mirrored  local");
for (const [i, r] of results.workspace.runs.entries()) {
  console.log(
    `${String(i).padStart(3)}  ${f(r.ms).padStart(9)}  ${String(r.requests).padStart(8)}  ${String(r.mirrored).padStart(8)}  ${f(results.local.runs[i]).padStart(6)}`,
  );
}
console.log(
  `first: ${f(results.workspace.firstMs)}, ${results.workspace.firstRequests} requests (×${results.ratios.firstVsLocal} local)`,
);
console.log(
  `later (mean of ${COMMANDS - 1}): ${f(results.workspace.laterMeanMs)}, ${results.workspace.laterMeanRequests.toFixed(1)} requests (×${results.ratios.laterVsLocal} local; ×${results.ratios.laterVsFirst} the first)`,
);
writeFileSync(join(here, "results", "exec.json"), `${JSON.stringify(results, null, 2)}\n`);
