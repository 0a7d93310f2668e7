// First-read cost of one large lazy file through @ws/workspace: `ws.fs.readFile` of a stub (fetch,
// hydrate into memfs, read back) against the provider's `fetch` alone. The provider is a
// MemoryMount-like one that returns a fresh array per fetch, as the LazyMount contract says, so the
// ratio isolates the copies the workspace adds. Run by `npm run bench` (node --expose-gc, built
// packages). Reports numbers, never asserts timings. Target: the ratio as close to 1 as copies allow
// (the reader's own Buffer is one unavoidable copy).
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Workspace } from "@ws/workspace";

const here = dirname(fileURLToPath(import.meta.url));
const gc = globalThis.gc;
if (typeof gc !== "function") {
  console.error("run with node --expose-gc (npm run bench does)");
  process.exit(1);
}

const SIZE = 256 * 1024 * 1024;
const ROUNDS = 5;
const source = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i += 4096) source[i] = i & 0xff;

/** Returns a fresh copy per fetch, like MemoryMount (the copy is the provider's cost, timed alone too). */
function freshMount() {
  return {
    kind: "bench-memory",
    writable: false,
    async list() {
      return [{ path: "big.bin", size: SIZE, mtime: 0 }];
    },
    async fetch() {
      return new Uint8Array(source);
    },
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeFetch() {
  const mount = freshMount();
  const t = performance.now();
  const bytes = await mount.fetch("big.bin");
  const ms = performance.now() - t;
  if (bytes.length !== SIZE) throw new Error("short fetch");
  return ms;
}

async function timeWorkspace() {
  const ws = new Workspace({ mounts: { "/m": freshMount() } });
  await ws.fs.stat("/m/big.bin"); // index outside the timing
  const t = performance.now();
  const buf = await ws.fs.readFile("/m/big.bin");
  const ms = performance.now() - t;
  if (buf.length !== SIZE || buf[4096] !== source[4096]) throw new Error("wrong bytes");
  await ws.close();
  return ms;
}

const fetchMs = [];
const wsMs = [];
for (let i = 0; i < ROUNDS; i++) {
  gc();
  fetchMs.push(await timeFetch());
  gc();
  wsMs.push(await timeWorkspace());
}
gc();

const result = {
  bytes: SIZE,
  rounds: ROUNDS,
  fetchMs: Math.round(median(fetchMs)),
  workspaceReadMs: Math.round(median(wsMs)),
};
const ratios = {
  "Workspace readFile / provider fetch alone": Number((median(wsMs) / median(fetchMs)).toFixed(2)),
};
console.log(`256 MiB, median of ${ROUNDS}`);
console.log(`  provider fetch alone (one fresh copy): ${result.fetchMs} ms`);
console.log(`  Workspace readFile of the stub:        ${result.workspaceReadMs} ms`);
console.log("\nratios");
for (const [name, value] of Object.entries(ratios)) console.log(`  ${name}: ${value}`);
console.log(
  "the workspace's floor is one copy on top of the fetch: the reader's own Buffer (memfs keeps the fetched array, and readers may mutate what they get).",
);
writeFileSync(
  join(here, "results", "workspace-read.json"),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, result, ratios }, null, 2)}\n`,
);
