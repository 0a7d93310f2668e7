// Packs every publishable @ws/* package with `npm pack`, installs the tarballs together into an
// empty directory outside the repository, and loads each one with `import` and with `require`
// (Node >= 20.19 can require() ES modules). Proves the published artefacts work on their own,
// without the workspace links or the "@ws/source" condition that tests use.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const packages = readdirSync(join(root, "packages"))
  .map((dir) => ({
    dir: join(root, "packages", dir),
    json: JSON.parse(readFileSync(join(root, "packages", dir, "package.json"), "utf8")),
  }))
  .filter((p) => !p.json.private);

const work = mkdtempSync(join(tmpdir(), "ws-smoke-pack-"));
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
try {
  const tarballs = packages.map((p) => {
    const out = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", work], p.dir));
    return join(work, out[0].filename);
  });
  const app = join(work, "app");
  run("mkdir", ["-p", app], work);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "smoke", private: true, type: "module" }));
  run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", ...tarballs], app);
  for (const { json } of packages) {
    const name = json.name;
    const esm = run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const m = await import(${JSON.stringify(name)}); console.log(Object.keys(m).length);`,
      ],
      app,
    );
    const cjs = run(
      process.execPath,
      [
        "--input-type=commonjs",
        "-e",
        `const m = require(${JSON.stringify(name)}); console.log(Object.keys(m).length);`,
      ],
      app,
    );
    if (Number(esm) === 0 || Number(cjs) === 0 || esm.trim() !== cjs.trim()) {
      throw new Error(`${name}: import gave ${esm.trim()} exports, require gave ${cjs.trim()}`);
    }
    console.log(`${name}: ${esm.trim()} exports through import and require`);
  }
  // The core contract works from the installed tarball, not only loads.
  const check = `const { MemoryMount, MountTable } = require("@ws/core");
const m = MemoryMount({ files: { "a.txt": "x" } });
m.list().then((e) => { if (e[0].path !== "a.txt") throw new Error("list"); });
const t = new MountTable(); t.add("/w", "directory", 1);
if (t.owner("/w/a").relPath !== "a") throw new Error("owner");`;
  run(process.execPath, ["--input-type=commonjs", "-e", check], app);
  // Every published binary runs from the install (the `ws` command: over a host folder).
  for (const { json } of packages) {
    for (const bin of Object.keys(json.bin ?? {})) {
      run(join(app, "node_modules", ".bin", bin), ["--help"], app);
      console.log(`${json.name}: the ${bin} binary runs`);
    }
  }
  run("mkdir", ["-p", join(app, "data")], app);
  writeFileSync(join(app, "data", "hello.txt"), "hello\n");
  const listed = run(join(app, "node_modules", ".bin", "ws"), ["ls", "./data"], app);
  if (listed !== "hello.txt\n") throw new Error(`ws ls from the tarball printed ${JSON.stringify(listed)}`);
  console.log(`smoke-pack: ${packages.length} package(s) install and load outside the repository`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
