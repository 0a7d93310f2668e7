// Indexing cost of @ws/workspace: time to index N MemoryMount entries (first ws.fs call) and the heap
// the workspace retains per stub. Run by `npm run bench` (node --expose-gc, built packages). Reports
// numbers, never asserts timings. Targets: <= 250 bytes per stub, <= 1 s per 100,000 entries.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MemoryMount, MemoryStore } from "@ws/core";
import { Workspace } from "@ws/workspace";

const here = dirname(fileURLToPath(import.meta.url));
const gc = globalThis.gc;
if (typeof gc !== "function") {
  console.error("run with node --expose-gc (npm run bench does)");
  process.exit(1);
}

function settle() {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}

// A realistic shape: 100 files per directory, two directory levels, ~45-character paths.
function keyOf(i, prefix) {
  return `${prefix}src/pkg${Math.floor(i / 10_000)}/dir${Math.floor(i / 100) % 100}/file-${i}.ts`;
}

const payload = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);

// Separate functions, so no list() result stays referenced from the caller's frame while measuring.
async function timeList(mount) {
  const t = performance.now();
  const entries = await mount.list();
  if (entries.length === 0) throw new Error("empty listing");
  return performance.now() - t;
}

async function index(mount) {
  const t = performance.now();
  const ws = new Workspace({ mounts: { "/m": mount } });
  await ws.fs.stat("/m");
  return { ws, indexMs: performance.now() - t };
}

async function run(n, variant) {
  const prefix = variant === "prefixed" ? "tenant-a/" : "";
  const store = new MemoryStore();
  for (let i = 0; i < n; i++) store.put(keyOf(i, prefix), payload);
  const mount = MemoryMount({ store, prefix: prefix.replace(/\/$/, "") });

  // The provider's own cost (list() + sanitising the keys), measured apart from the workspace's. The
  // first call also flattens the store's key strings, which would otherwise show up as a negative
  // heap delta in the measurement below.
  await timeList(mount);
  const listMs = await timeList(mount);

  const before = settle();
  const { ws, indexMs } = await index(mount);
  const after = settle();
  // Touch the workspace after measuring so it cannot be collected before `after`.
  const probe = await ws.fs.stat(`/m/${keyOf(n - 1, "")}`);
  if (probe.size !== payload.length || ws.stats.fetches !== 0) throw new Error("index is wrong");
  const bytesPerStub = (after - before) / n;
  await ws.close();
  return {
    entries: n,
    variant,
    indexMs: Math.round(indexMs),
    listMs: Math.round(listMs),
    msPer100k: Math.round((indexMs / n) * 100_000),
    bytesPerStub: Math.round(bytesPerStub),
  };
}

const results = [];
for (const n of [100_000, 1_000_000]) {
  for (const variant of ["shared-paths", "prefixed"]) {
    const r = await run(n, variant);
    results.push(r);
    settle();
  }
}

console.log("entries    variant        index ms  (list() alone ms)  ms/100k  retained bytes/stub");
for (const r of results) {
  console.log(
    `${String(r.entries).padEnd(10)} ${r.variant.padEnd(14)} ${String(r.indexMs).padStart(8)}  ${String(r.listMs).padStart(17)}  ${String(r.msPer100k).padStart(7)}  ${String(r.bytesPerStub).padStart(19)}`,
  );
}
console.log(
  "shared-paths: stub paths are the store's own key strings; prefixed: list() strips a prefix, so each stub holds its own path string.",
);
console.log(
  "targets: <= 250 bytes per stub, <= 1000 ms per 100,000 entries (index ms includes the provider's list()).",
);
writeFileSync(
  join(here, "results", "workspace-index.json"),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2)}\n`,
);
