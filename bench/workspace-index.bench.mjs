// Indexing cost of @ws/workspace: time to index N MemoryMount entries (first ws.fs call) and the heap
// the workspace retains per stub. Run by `npm run bench` (node --expose-gc, built packages). Reports
// numbers, never asserts timings. Targets: <= 250 bytes per stub, <= 1 s per 100,000 entries.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MemoryMount, MemoryStore } from "@ws/core";
import { Workspace } from "@ws/workspace";
import { Volume } from "memfs";

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

function storeOf(n, prefix) {
  const store = new MemoryStore();
  for (let i = 0; i < n; i++) store.put(keyOf(i, prefix), payload);
  return store;
}

async function run(n, variant) {
  const prefix = variant === "prefixed" ? "tenant-a/" : "";
  const store = storeOf(n, prefix);
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

// The peer: what keeping stubs in memfs itself would cost (an empty file per entry, with its
// directories), the design the compact stub table replaces.
async function runMemfs(n) {
  const entries = await MemoryMount({ store: storeOf(n, "") }).list();
  const before = settle();
  const t = performance.now();
  const vol = new Volume();
  const dirs = new Set();
  for (const entry of entries) {
    const path = `/m/${entry.path}`;
    const dir = path.slice(0, path.lastIndexOf("/"));
    if (!dirs.has(dir)) {
      vol.mkdirSync(dir, { recursive: true });
      dirs.add(dir);
    }
    vol.writeFileSync(path, "");
  }
  const indexMs = performance.now() - t;
  const after = settle();
  if (!vol.existsSync(`/m/${keyOf(n - 1, "")}`)) throw new Error("memfs index is wrong");
  return {
    entries: n,
    variant: "memfs-peer",
    indexMs: Math.round(indexMs),
    msPer100k: Math.round((indexMs / n) * 100_000),
    bytesPerStub: Math.round((after - before) / n),
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

const peer = await runMemfs(100_000);
settle();

console.log("entries    variant        index ms  (list() alone ms)  ms/100k  retained bytes/stub");
for (const r of results) {
  console.log(
    `${String(r.entries).padEnd(10)} ${r.variant.padEnd(14)} ${String(r.indexMs).padStart(8)}  ${String(r.listMs).padStart(17)}  ${String(r.msPer100k).padStart(7)}  ${String(r.bytesPerStub).padStart(19)}`,
  );
}
console.log(
  `${String(peer.entries).padEnd(10)} ${peer.variant.padEnd(14)} ${String(peer.indexMs).padStart(8)}  ${"".padStart(17)}  ${String(peer.msPer100k).padStart(7)}  ${String(peer.bytesPerStub).padStart(19)}`,
);
const ours = results.find((r) => r.entries === 100_000 && r.variant === "shared-paths");
const ratios = {
  "index time per entry: Workspace / stubs as memfs files": Number(
    (ours.msPer100k / peer.msPer100k).toFixed(2),
  ),
  "retained bytes per stub: Workspace / stubs as memfs files": Number(
    (ours.bytesPerStub / peer.bytesPerStub).toFixed(3),
  ),
  "bytes per stub / target 250 (<= 1)": Number(
    (Math.max(...results.map((r) => r.bytesPerStub)) / 250).toFixed(2),
  ),
  "ms per 100k / target 1000 (<= 1)": Number(
    (Math.max(...results.map((r) => r.msPer100k)) / 1000).toFixed(2),
  ),
};
console.log("\nratios");
for (const [name, value] of Object.entries(ratios)) console.log(`  ${name}: ${value}`);
console.log(
  "memfs-peer: the same 100,000 entries written as empty files into a memfs Volume (no Workspace, no list()).",
);
console.log(
  "shared-paths: stub paths are the store's own key strings; prefixed: list() strips a prefix, so each stub holds its own path string.",
);
console.log(
  "targets: <= 250 bytes per stub, <= 1000 ms per 100,000 entries (index ms includes the provider's list()).",
);
writeFileSync(
  join(here, "results", "workspace-index.json"),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results, peer, ratios }, null, 2)}\n`,
);
