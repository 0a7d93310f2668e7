// Runs every bench/*.bench.mjs in turn (or those whose names contain an argument), each in its own
// Node process with --expose-gc, against the built packages. Each benchmark prints its own table of
// ratios and writes JSON to bench/results/. Benchmarks are never timing assertions: they report.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, "results"), { recursive: true });
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.mjs"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${filters.join(" ")}; available: ${readdirSync(here).join(", ")}`);
  process.exit(1);
}
let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file}`);
  const run = spawnSync(process.execPath, ["--expose-gc", join(here, file)], { stdio: "inherit" });
  if (run.status !== 0) {
    failed++;
    console.error(`${file} failed with exit code ${run.status}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
