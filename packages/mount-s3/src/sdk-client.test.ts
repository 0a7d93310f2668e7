import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../../..", import.meta.url));
const pkg = join(repo, "packages/mount-s3");

/** Newest mtime of the non-test sources of a package. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts")) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** The spawned process loads the published shape (dist): build the packages it needs when stale. */
async function ensureBuilt(): Promise<void> {
  for (const name of ["core", "provider-kit", "mount-s3"]) {
    const dir = join(repo, "packages", name);
    const out = join(dir, "dist/index.js");
    if (existsSync(out) && statSync(out).mtimeMs >= newestSource(join(dir, "src"))) continue;
    await run(join(repo, "node_modules/.bin/tsc"), ["-p", join(dir, "tsconfig.build.json")], { cwd: dir });
  }
}

/** Runs an ES module in a fresh node from the mount-s3 package folder; returns its stderr. */
async function stderrOf(code: string): Promise<string> {
  const env = { ...process.env };
  delete env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"];
  delete env["NODE_OPTIONS"];
  const { stderr } = await run(process.execPath, ["--input-type=module", "-e", code], { cwd: pkg, env });
  return stderr;
}

describe("loading @ws/mount-s3 in a fresh node process", () => {
  beforeAll(ensureBuilt, 120_000);

  it("prints nothing to stderr: no AWS SDK NodeVersionSupportWarning", async () => {
    const stderr = await stderrOf(`
      import { S3Bucket } from "@ws/mount-s3";
      const mount = S3Bucket("bucket", {
        clientConfig: { region: "us-east-1", endpoint: "http://127.0.0.1:9", forcePathStyle: true,
          credentials: { accessKeyId: "a", secretAccessKey: "b" }, maxAttempts: 1 },
      });
      // The first read sets up the fast path too, which inspects a stock client.
      await mount.fetch("x").catch(() => {});
      await mount.dispose();
    `);
    expect(stderr).toBe("");
  });

  it("control: the SDK on its own does print the warning on Node < 22 (so the test above can fail)", async () => {
    const stderr = await stderrOf(`
      import { S3Client } from "@aws-sdk/client-s3";
      new S3Client({ region: "us-east-1" }).destroy();
    `);
    const major = Number(process.versions.node.split(".")[0]);
    if (major < 22) expect(stderr).toMatch(/NodeVersionSupportWarning/);
    else expect(stderr).toBe("");
  });
});
