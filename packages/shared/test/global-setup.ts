import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PostgresInfo, R2HttpInfo, S3ServerInfo } from "@ws/test-servers";
import { build } from "rolldown";
import type { TestProject } from "vitest/node";
// Vitest loads global setup files without the "@ws/source" condition: import the sources directly.
import { startMiniflareR2Http, startMoto, startPostgres, startSwift } from "../../test-servers/src/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    shared: {
      moto: S3ServerInfo;
      swift: S3ServerInfo;
      postgres: PostgresInfo;
      r2: R2HttpInfo;
      worker: string;
    };
  }
}

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Starts moto, Swift, PostgreSQL and Miniflare (R2 served over HTTP, so forked workers reach it) once for the run, and bundles test/worker.ts (with the
 * @ws/* sources) into one .mjs the tests fork as real processes. A server that cannot start fails the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Inside the package, so the bundle's bare imports (the AWS SDK, pg, memfs) resolve from node_modules.
  await mkdir(join(here, "..", "node_modules"), { recursive: true });
  const out = await mkdtemp(join(here, "..", "node_modules", ".ws-shared-worker-"));
  const worker = join(out, "worker.mjs");
  await build({
    input: join(here, "worker.ts"),
    platform: "node",
    resolve: { conditionNames: ["@ws/source", "node", "import", "default"] },
    external: (id) => !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("@ws/"),
    output: { file: worker, format: "esm" },
    logLevel: "silent",
  });
  const results = await Promise.allSettled([
    startMoto(),
    startSwift(),
    startPostgres(),
    startMiniflareR2Http({ buckets: ["BUCKET"] }),
  ]);
  const stop = async (): Promise<void> => {
    await Promise.all(results.map((r) => (r.status === "fulfilled" ? r.value.stop() : undefined)));
    await rm(out, { recursive: true, force: true });
  };
  const failed = results.find((r) => r.status === "rejected");
  if (failed) {
    await stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  const [moto, swift, postgres, r2] = results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    Awaited<ReturnType<typeof startMoto>>,
    Awaited<ReturnType<typeof startSwift>>,
    Awaited<ReturnType<typeof startPostgres>>,
    Awaited<ReturnType<typeof startMiniflareR2Http>>,
  ];
  project.provide("shared", {
    moto: moto.info(),
    swift: swift.info(),
    postgres: postgres.info(),
    r2: r2.info(),
    worker,
  });
  return stop;
}
