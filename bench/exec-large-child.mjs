// One exec that writes one large file into a read-write S3Bucket (or R2Bucket), in a process of its
// own, so GNU time's peak RSS (%M) is this exec's alone. Started by exec-large.bench.mjs:
//   node exec-large-child.mjs MODE BUCKET PREFIX MIB
//   MODE: baseline (the same workspace, `true` as the command) | stream (the default streamBytes)
//         | memory (streamBytes above the file: read whole, as before issue 18.5)
//         | sparse (a sparse file of MIB with 4 bytes of data, streamed)
// Environment: S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY; WS_PACKAGES: a directory of
// built @ws packages to load instead (the main branch, for a before/after run). WS_BENCH_R2=1: an
// R2Bucket over Miniflare's R2 binding instead, Miniflare started here (its binding is a proxy into
// this process); workerd is a child process, so the peak RSS printed is this process's own
// (getrusage RUSAGE_SELF: GNU time's %M would also count workerd once it is reaped), and workerd's
// own peak (VmHWM) is printed beside it.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [mode, bucket, prefix, mib] = process.argv.slice(2);
const env = process.env;
const load = (name) =>
  env.WS_PACKAGES
    ? import(pathToFileURL(join(env.WS_PACKAGES, name, "dist/index.js")).href)
    : import(`@ws/${name}`);
const { Workspace } = await load("workspace");
const r2 = env.WS_BENCH_R2 === "1";
let miniflare;
let mount;
if (r2) {
  const { startMiniflareR2 } = await import("@ws/test-servers");
  const { R2Bucket } = await load("mount-r2");
  miniflare = await startMiniflareR2({ buckets: ["LARGE"] });
  mount = R2Bucket(await miniflare.bucket("LARGE"), { prefix, mode: "read-write" });
} else {
  const { S3Bucket } = await load("mount-s3");
  const clientConfig = {
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.S3_ACCESS_KEY, secretAccessKey: env.S3_SECRET_KEY },
  };
  mount = S3Bucket({ bucket, prefix, clientConfig, mode: "read-write" });
}
const ws = new Workspace({ mounts: { "/m": mount } });
/** Peak RSS (MiB) of this process's child processes (workerd), read while they still run. */
const childPeakMiB = () => {
  let kib = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== process.pid) continue;
      kib += Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {}
  }
  return Math.round(kib / 1024);
};
const commands = {
  baseline: "true",
  stream: `head -c ${mib}M /dev/zero > m/big.bin`,
  memory: `head -c ${mib}M /dev/zero > m/big.bin`,
  sparse: `truncate -s ${mib}M m/big.bin && printf data | dd of=m/big.bin bs=1 seek=3000000 conv=notrunc status=none`,
};
const start = performance.now();
const r = await ws.exec(
  "sh",
  ["-c", commands[mode]],
  mode === "memory" ? { streamBytes: Number.MAX_SAFE_INTEGER } : {},
);
const ms = performance.now() - start;
await ws.close();
const selfRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
const serverRssMiB = r2 ? childPeakMiB() : undefined;
if (r2) {
  const head = await (await miniflare.bucket("LARGE")).head(`${prefix}/big.bin`);
  if (mode !== "baseline" && head?.size !== Number(mib) * 1024 * 1024) {
    console.error(`R2 holds ${head?.size} bytes at ${prefix}/big.bin, not ${mib} MiB`);
    process.exitCode = 1;
  }
  await miniflare.stop();
}
if (r.exitCode !== 0 || r.changes.errors.length > 0) {
  console.error(r.stderr, r.changes.errors);
  process.exit(1);
}
console.log(JSON.stringify({ ms, mirrored: r.changes.mirrored, selfRssMiB, serverRssMiB }));
