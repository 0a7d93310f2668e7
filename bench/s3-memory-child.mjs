// One measured read in a process of its own, so GNU time's peak RSS (%M) is this read's alone.
// Started by s3.bench.mjs (the "memory" rows):
//   node s3-memory-child.mjs MODE BUCKET [KEY]
//   MODE: baseline (index only) | readFile | stream | all (readFile of every file, 4 at a time)
// Environment: S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY; CACHE_MAX_BYTES for a budget.
import { S3Bucket } from "@ws/mount-s3";
import { Workspace } from "@ws/workspace";

const [mode, bucket, key] = process.argv.slice(2);
const env = process.env;
const clientConfig = {
  endpoint: env.S3_ENDPOINT,
  region: env.S3_REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: env.S3_ACCESS_KEY, secretAccessKey: env.S3_SECRET_KEY },
};
const budget = env.CACHE_MAX_BYTES ? Number(env.CACHE_MAX_BYTES) : undefined;
const ws = new Workspace({
  mounts: { "/b": S3Bucket({ bucket, clientConfig, concurrency: 16, readStreams: 4 }) },
  ...(budget === undefined ? {} : { cache: { maxBytes: budget } }),
});
await ws.fs.readdir("/b"); // index first: only the read is measured
const start = performance.now();
let bytes = 0;
if (mode === "readFile") {
  bytes = (await ws.fs.readFile(`/b/${key}`)).length;
} else if (mode === "stream") {
  for await (const chunk of ws.fs.createReadStream(`/b/${key}`)) bytes += chunk.length;
} else if (mode === "all") {
  const files = (await ws.fs.readdir("/b", { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => `${d.parentPath}/${d.name}`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < files.length) {
        const read = await ws.fs.readFile(files[next++]);
        bytes += read.length; // not `bytes += (await ...)`: that reads `bytes` before the await
      }
    }),
  );
} else if (mode !== "baseline") {
  throw new Error(`unknown mode ${mode}`);
}
const wall = (performance.now() - start) / 1000;
const stats = { ...ws.stats };
const cache = ws.cache;
await ws.close();
console.log(
  JSON.stringify({ mode, wall, bytes, evictions: stats.evictions, residentBytes: cache.residentBytes }),
);
