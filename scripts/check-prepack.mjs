// A tarball must never ship without code. For every publishable package: it declares the shared
// `prepack` script, and packed from a clean state (every dist/ removed, no prior build) its
// tarball still holds dist/index.js and dist/index.d.ts. The dist folders are moved aside first
// and put back if the check fails, so a failed run leaves the checkout as it found it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const packages = readdirSync(join(root, "packages"))
  .map((dir) => ({ dir: join(root, "packages", dir), file: join(root, "packages", dir, "package.json") }))
  .filter((p) => existsSync(p.file))
  .map((p) => ({ ...p, json: JSON.parse(readFileSync(p.file, "utf8")) }))
  .filter((p) => !p.json.private);

const problems = [];
for (const p of packages) {
  if (p.json.scripts?.prepack !== "node ../../scripts/prepack.mjs") {
    problems.push(`${p.json.name}: add "prepack": "node ../../scripts/prepack.mjs" to its scripts`);
  }
}

const work = mkdtempSync(join(tmpdir(), "ws-check-prepack-"));
const aside = new Map();
try {
  for (const p of packages) {
    const dist = join(p.dir, "dist");
    if (existsSync(dist)) {
      const to = join(work, `dist-${p.json.name.replace("/", "-")}`);
      renameSync(dist, to);
      aside.set(dist, to);
    }
  }
  for (const p of packages) {
    const out = execFileSync("npm", ["pack", "--json", "--pack-destination", work], {
      cwd: p.dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    const files = new Set(JSON.parse(out)[0].files.map((f) => f.path));
    for (const needed of ["dist/index.js", "dist/index.d.ts"]) {
      if (!files.has(needed))
        problems.push(`${p.json.name}: packed from a clean state, the tarball lacks ${needed}`);
    }
    console.log(`${p.json.name}: packed from a clean state with ${files.size} files, dist included`);
  }
} finally {
  // Put back what was moved if the pack did not rebuild it.
  for (const [dist, moved] of aside) if (!existsSync(dist) && existsSync(moved)) renameSync(moved, dist);
  rmSync(work, { recursive: true, force: true });
}
if (problems.length > 0) {
  console.error(`check-prepack:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`check-prepack: ${packages.length} package(s) build on prepack and ship their dist`);
