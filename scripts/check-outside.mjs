// The testkit as an outside author meets it: packs @ws/core, @ws/provider-kit, @ws/workspace and @ws/testkit,
// installs the tarballs (and vitest) into an empty project outside the repository, copies in a
// stranger's provider written in plain JavaScript (scripts/outside/), and runs the conformance
// suite there. It must pass and say where the report went; with one planted mistake (a leading
// slash in list()) it must fail and lead with the root cause.
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const vitestVersion = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).devDependencies.vitest;
const work = mkdtempSync(join(tmpdir(), "ws-outside-"));
const fail = (message) => {
  console.error(`check-outside: ${message}`);
  process.exitCode = 1;
};
try {
  const tarballs = ["core", "provider-kit", "workspace", "testkit"].map((dir) => {
    const out = execFileSync("npm", ["pack", "--json", "--pack-destination", work], {
      cwd: join(root, "packages", dir),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    return join(work, JSON.parse(out)[0].filename);
  });
  const app = join(work, "notes-provider");
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify(
      { name: "notes-provider", private: true, type: "module", scripts: { test: "vitest run" } },
      null,
      2,
    ),
  );
  execFileSync("npm", ["install", "--no-audit", "--no-fund", ...tarballs, `vitest@${vitestVersion}`], {
    cwd: app,
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (const file of ["notes-mount.js", "notes-mount.conformance.test.js", "vitest.config.js"]) {
    copyFileSync(join(root, "scripts", "outside", file), join(app, file));
  }
  const test = (env) => {
    const run = spawnSync("npx", ["vitest", "run"], {
      cwd: app,
      env: { ...process.env, NO_COLOR: "1", ...env },
      encoding: "utf8",
    });
    return { status: run.status, out: `${run.stdout}${run.stderr}` };
  };

  const good = test({});
  const report = join(app, "conformance-report", "conformance.json");
  if (good.status !== 0)
    fail(`the stranger's provider failed the suite from the packed tarballs:\n${good.out}`);
  else if (!good.out.includes("conformance report written to conformance-report/conformance.md")) {
    fail(`the run did not say where the report went:\n${good.out}`);
  } else if (!existsSync(report)) fail("no conformance.json was written");
  else {
    const totals = JSON.parse(readFileSync(report, "utf8")).totals.notes;
    if (totals.FAIL !== 0 || totals.PASS < 50) fail(`unexpected totals ${JSON.stringify(totals)}`);
    else
      console.log(
        `check-outside: a stranger's provider passes from the packed tarballs: ${JSON.stringify(totals)}`,
      );
  }

  const broken = test({ NOTES_BROKEN: "leading-slash" });
  const first = broken.out.split("\n").find((l) => l.startsWith("ROOT CAUSE") || / FAIL /.test(l)) ?? "";
  if (broken.status === 0) fail("the planted leading slash was not caught");
  else if (!first.startsWith("ROOT CAUSE notes: shape.entries failed: list path")) {
    fail(`the planted leading slash did not lead with the root cause; first report line: ${first}`);
  } else console.log(`check-outside: one planted mistake, led by: ${first}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
