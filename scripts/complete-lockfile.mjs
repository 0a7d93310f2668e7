// The npm registry these machines reach does not serve every platform build of a package (for
// example @biomejs/cli-darwin-arm64 or @turbo/windows-64 answer 404). `npm install` then leaves
// those optional packages out of package-lock.json, and `npm ci` refuses the lockfile as out of
// sync. npm never downloads an optional package for another platform, so an entry that records
// only its version, os, cpu and libc (inferred from the package name) is all `npm ci` needs.
// Runs as the root postinstall; idempotent; touches nothing when the lockfile is complete.
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
const packages = lock.packages ?? {};
const PLATFORM =
  /[-/](android|darwin|linux|win32|windows|freebsd)-(arm64|x64|ia32|64|arm)(?:-(musl|gnu|msvc))?$/;
const added = [];
for (const entry of Object.values(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    const m = PLATFORM.exec(name);
    if (!m) continue;
    const stub = {
      version,
      optional: true,
      os: [m[1] === "windows" ? "win32" : m[1]],
      cpu: [m[2] === "64" ? "x64" : m[2]],
    };
    if (m[3] === "musl") stub.libc = ["musl"];
    if (m[3] === "gnu") stub.libc = ["glibc"];
    if (entry.dev) stub.dev = true;
    packages[key] = stub;
    added.push(name);
  }
}
if (added.length > 0) {
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(
    `complete-lockfile: recorded ${added.length} platform package(s) the registry does not serve: ${added.join(", ")}`,
  );
}
