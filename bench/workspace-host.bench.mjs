// Host CPU per cold read of a small file through @ws/workspace: 20,000 stubs of 4 KiB over a lazy
// mount that answers from memory, read by `ws.prefetch` and by `ws.fs.readFile` (16 at a time),
// against the mount's own `fetch` called in the same loop. No server, so the ratio is what the
// workspace itself adds per object (layers, hydration into memfs, the read back), the part that
// S3's cold-read figures hide under moto's noise. CPU from process.cpuUsage, median of 5 rounds.
// Run by `npm run bench -- workspace-host` (node --expose-gc, built packages). Reports, never asserts.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Workspace } from "@ws/workspace";

const here = dirname(fileURLToPath(import.meta.url));
const N = 20_000;
const CONCURRENCY = 16;
const ROUNDS = 5;
const body = new Uint8Array(4096).fill(7);
const keys = Array.from({ length: N }, (_, i) => `d${i % 20}/f${i}.bin`);
const mount = {
  kind: "bench-memory",
  async list() {
    return keys.map((path) => ({ path, size: body.length }));
  },
  async fetch() {
    return body.slice();
  },
};

async function pool(items, limit, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** CPU milliseconds per object for `read` over a fresh workspace (or none), median of ROUNDS. */
async function cpuPerObject(read) {
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const ws = new Workspace({ mounts: { "/b": () => mount }, concurrency: CONCURRENCY });
    await ws.fs.readdir("/b"); // indexed before the clock starts
    globalThis.gc?.();
    const start = process.cpuUsage();
    await read(ws);
    const used = process.cpuUsage(start);
    rounds.push((used.user + used.system) / 1000 / N);
    await ws.close();
  }
  return median(rounds);
}

const fetchAlone = await cpuPerObject(() => pool(keys, CONCURRENCY, (k) => mount.fetch(k)));
const prefetch = await cpuPerObject((ws) => ws.prefetch("/b", { concurrency: CONCURRENCY }));
const readFile = await cpuPerObject((ws) => pool(keys, CONCURRENCY, (k) => ws.fs.readFile(`/b/${k}`)));

const rows = {
  "mount.fetch alone": fetchAlone,
  "Workspace prefetch": prefetch,
  "Workspace fs.readFile": readFile,
};
console.log(`${N} stubs of 4 KiB, ${CONCURRENCY} at a time, CPU ms per object (median of ${ROUNDS})`);
for (const [name, ms] of Object.entries(rows)) console.log(`  ${name.padEnd(24)} ${ms.toFixed(4)}`);
const ratios = {
  "host CPU per object: prefetch / fetch alone": prefetch / fetchAlone,
  "host CPU per object: readFile / fetch alone": readFile / fetchAlone,
};
console.log("\nratios");
for (const [name, value] of Object.entries(ratios)) console.log(`  ${name}: ${value.toFixed(2)}`);
writeFileSync(
  join(here, "results", "workspace-host.json"),
  `${JSON.stringify({ files: N, concurrency: CONCURRENCY, cpuMsPerObject: rows, ratios }, null, 2)}\n`,
);
