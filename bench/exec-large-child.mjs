// One exec that writes one large file into a read-write S3Bucket, in a process of its own, so GNU
// time's peak RSS (%M) is this exec's alone. Started by exec-large.bench.mjs:
//   node exec-large-child.mjs MODE BUCKET PREFIX MIB
//   MODE: baseline (the same workspace, `true` as the command) | stream (the default streamBytes)
//         | memory (streamBytes above the file: read whole, as before issue 18.5)
//         | sparse (a sparse file of MIB with 4 bytes of data, streamed)
// Environment: S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY; WS_PACKAGES: a directory of
// built @ws packages to load instead (the main branch, for a before/after run).
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [mode, bucket, prefix, mib] = process.argv.slice(2);
const env = process.env;
const load = (name) =>
  env.WS_PACKAGES
    ? import(pathToFileURL(join(env.WS_PACKAGES, name, "dist/index.js")).href)
    : import(`@ws/${name}`);
const { S3Bucket } = await load("mount-s3");
const { Workspace } = await load("workspace");
const clientConfig = {
  endpoint: env.S3_ENDPOINT,
  region: env.S3_REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: env.S3_ACCESS_KEY, secretAccessKey: env.S3_SECRET_KEY },
};
const ws = new Workspace({
  mounts: { "/m": S3Bucket({ bucket, prefix, clientConfig, mode: "read-write" }) },
});
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
if (r.exitCode !== 0 || r.changes.errors.length > 0) {
  console.error(r.stderr, r.changes.errors);
  process.exit(1);
}
console.log(JSON.stringify({ ms, mirrored: r.changes.mirrored }));
