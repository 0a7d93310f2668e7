import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";

const fixture = new URL("../test/fixtures/leading-slash", import.meta.url).pathname;

// One mistake (a leading slash in list()), one message: the run is a real vitest run of a broken
// provider through ConformanceReporter, in a child process, read as a user reads its output.
it("leads with the root cause, says where the report went, and names each NA case with its reason", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ws-reporter-"));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, WS_FIXTURE_REPORT_DIR: dir, NO_COLOR: "1" };
    for (const key of Object.keys(env)) if (key.startsWith("VITEST")) delete env[key];
    const run = spawnSync("npx", ["vitest", "run", "--root", fixture], { env, encoding: "utf8" });
    const out = `${run.stdout}${run.stderr}`;
    expect(run.status, out).toBe(1);
    const lines = out.split("\n");
    const root = lines.findIndex((l) => l.startsWith("ROOT CAUSE leading-slash: shape.entries failed"));
    const firstFailure = lines.findIndex((l) => /FAIL .*>/.test(l));
    expect(root, out).toBeGreaterThanOrEqual(0);
    expect(root, "the root cause comes before the first failure's details").toBeLessThan(firstFailure);
    expect(lines[firstFailure], "the first failure shown is the shape case").toMatch(/shape\.entries/);
    expect(lines[root]).toMatch(/list path "\/README\.md" starts with \//);
    // The closing summary leads with it too, then the report's location, then every NA with its reason.
    expect(out).toMatch(
      /ROOT CAUSE leading-slash: shape\.entries failed[^\n]*\n {2}fix this first: \d+ later failure/,
    );
    expect(out).toContain(
      `conformance report written to ${join(dir, "conformance.md")} and ${join(dir, "conformance.json")}`,
    );
    expect(out).toMatch(/NA \(needs forbidden, declared unsupported\): errors\.forbidden/);
    expect(out).toMatch(/NA \(eager mounts only; this provider is lazy\): [^\n]*eager\.tree/);
    const md = await readFile(join(dir, "conformance.md"), "utf8");
    expect(md).toMatch(/## Root cause: fix these first\n\n- `shape\.entries` on leading-slash/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 60_000);
