// Cost of the durable write-back journal (issue 9 item 12): ws.fs.writeFile to a read-write mount
// with the journal (every write fsync'd to disk before the call resolves) against the same
// workspace without it, and against node:fs writeFile + fsync of the same bytes (the floor of any
// durable write on this disk). Write-back is manual, so the provider is out of the timing.
// Run by `npm run bench -- journal`. Reports numbers, never asserts timings.
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MemoryMount } from "@ws/core";
import { Workspace } from "@ws/workspace";

const here = dirname(fileURLToPath(import.meta.url));
const COUNT = 1000;
const SIZES = [4 * 1024, 256 * 1024];

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

async function timeWorkspace(size, journal) {
  const ws = new Workspace({
    mounts: { "/m": MemoryMount({ mode: "read-write", writeBack: "manual" }) },
    ...(journal ? { journal } : {}),
  });
  const body = new Uint8Array(size).fill(7);
  await ws.fs.mkdir("/m/d");
  const lat = [];
  const t0 = performance.now();
  for (let i = 0; i < COUNT; i++) {
    const t = performance.now();
    await ws.fs.writeFile(`/m/d/f${i % 200}.bin`, body);
    lat.push(performance.now() - t);
  }
  const total = performance.now() - t0;
  await ws.close();
  return { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), perSecond: (COUNT / total) * 1000 };
}

function timeNodeFsync(size, dir) {
  const body = new Uint8Array(size).fill(7);
  const lat = [];
  const t0 = performance.now();
  for (let i = 0; i < COUNT; i++) {
    const t = performance.now();
    const fd = openSync(join(dir, `f${i % 200}.bin`), "w");
    writeSync(fd, body);
    fsyncSync(fd);
    closeSync(fd);
    lat.push(performance.now() - t);
  }
  const total = performance.now() - t0;
  return { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), perSecond: (COUNT / total) * 1000 };
}

const fmt = (r) =>
  `p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, ${Math.round(r.perSecond)} writes/s`;
const results = {};
const ratios = {};
const base = mkdtempSync(join(tmpdir(), "ws-bench-journal-"));
try {
  for (const size of SIZES) {
    const label = `${size / 1024} KiB`;
    const without = await timeWorkspace(size, undefined);
    const withJournal = await timeWorkspace(size, join(base, `j-${size}`));
    const nodeFs = timeNodeFsync(size, base);
    results[label] = { without, withJournal, nodeFsync: nodeFs };
    ratios[`${label}: p50 latency with journal ÷ without`] = Number(
      (withJournal.p50 / without.p50).toFixed(1),
    );
    ratios[`${label}: throughput with journal ÷ without`] = Number(
      (withJournal.perSecond / without.perSecond).toFixed(3),
    );
    ratios[`${label}: p50 latency with journal ÷ node:fs write+fsync`] = Number(
      (withJournal.p50 / nodeFs.p50).toFixed(2),
    );
    console.log(`${label} × ${COUNT} writes (${tmpdir()})`);
    console.log(`  ws.fs.writeFile, no journal:     ${fmt(without)}`);
    console.log(`  ws.fs.writeFile, journal:        ${fmt(withJournal)}`);
    console.log(`  node:fs write + fsync (peer):    ${fmt(nodeFs)}`);
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
console.log("\nratios");
for (const [name, value] of Object.entries(ratios)) console.log(`  ${name}: ${value}`);
writeFileSync(
  join(here, "results", "journal.json"),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, count: COUNT, results, ratios }, null, 2)}\n`,
);
