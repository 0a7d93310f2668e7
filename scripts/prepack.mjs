// Every package's `prepack`: a tarball never ships without code. Builds the package being packed,
// after building any @ws/* dependency of it that has no dist/ yet (a fresh clone, `npm ci`, then
// `npm pack -w packages/x` works without a prior `npm run build`). Plain tsc, no turbo: `attw
// --pack` runs inside turbo tasks and calls `npm pack`, which runs this script.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const manifests = new Map();
for (const dir of readdirSync(join(root, "packages"))) {
  const file = join(root, "packages", dir, "package.json");
  if (!existsSync(file)) continue;
  const json = JSON.parse(readFileSync(file, "utf8"));
  manifests.set(json.name, { dir: join(root, "packages", dir), json });
}

const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const built = new Set();
function build(name, force) {
  if (built.has(name)) return;
  built.add(name);
  const pkg = manifests.get(name);
  if (!pkg) return;
  const deps = { ...pkg.json.dependencies, ...pkg.json.peerDependencies };
  for (const dep of Object.keys(deps)) if (manifests.has(dep)) build(dep, false);
  if (!force && existsSync(join(pkg.dir, "dist", "index.js"))) return;
  console.error(`prepack: building ${name}`);
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: pkg.dir, stdio: "inherit" });
}

const self = JSON.parse(readFileSync(join(process.cwd(), "package.json"), "utf8")).name;
if (!manifests.has(self)) throw new Error(`prepack: ${self} is not a package under packages/`);
build(self, true);
