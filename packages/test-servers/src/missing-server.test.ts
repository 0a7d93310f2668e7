import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { expect, it } from "vitest";

const root = new URL("../../..", import.meta.url).pathname;

function hasMoto(dir: string): boolean {
  try {
    accessSync(join(dir, "moto_server"), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Issue 10, item 7: without moto_server on PATH, the first and only message names the missing
// server and how to install it (not "No test files found", a 0-test summary, then the error).
it("a run of mount-s3 without moto_server on PATH says only that, and how to install it", () => {
  const path = (process.env["PATH"] ?? "")
    .split(delimiter)
    .filter((dir) => dir && !hasMoto(dir))
    .join(delimiter);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: path, NO_COLOR: "1" };
  for (const key of Object.keys(env)) if (key.startsWith("VITEST")) delete env[key];
  const run = spawnSync(
    process.execPath,
    [join(root, "node_modules/vitest/vitest.mjs"), "run", "--project", "mount-s3"],
    {
      cwd: root,
      env,
      encoding: "utf8",
    },
  );
  const out = `${run.stdout}${run.stderr}`;
  expect(run.status, out).toBe(1);
  const lines = out.split("\n").filter((l) => l.trim() !== "");
  expect(lines[0], out).toMatch(
    /^The mount-s3 tests need (a server that is|servers that are) not installed:$/,
  );
  expect(lines[1], out).toMatch(
    /moto .*`moto_server` is not on PATH\. Install it: pip install 'moto\[server\]/,
  );
  expect(out).not.toMatch(/No test files found|tests: 0 passed|Unhandled Error/);
  expect(lines.length, out).toBeLessThanOrEqual(4);
}, 60_000);
