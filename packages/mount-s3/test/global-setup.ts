import type { S3ServerInfo, S3TestServer } from "@ws/test-servers";
import type { TestProject } from "vitest/node";
// Vitest loads global setup files without the "@ws/source" condition, so "@ws/test-servers" would
// resolve to its dist/ build, stale whenever the sources changed since the last build. Import the
// sources directly.
import { startMoto, startSwift } from "../../test-servers/src/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The S3-compatible servers of this run, by name. */
    s3Servers: { moto: S3ServerInfo; swift: S3ServerInfo };
  }
}

/** Starts moto and Swift once for the whole run; a server that cannot start fails the run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // allSettled, so that a server which did start is stopped when the other one failed.
  // moto with IAM auth off: with it on, moto 5.2 rejects valid signatures of query values that
  // contain "/" (every prefixed ListObjectsV2). Credential cases use their own moto with auth on.
  const results = await Promise.allSettled([startMoto(), startSwift()]);
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((s: S3TestServer) => s.stop()));
  };
  const [moto, swift] = results;
  if (moto.status === "rejected" || swift.status === "rejected") {
    await stop();
    throw moto.status === "rejected" ? moto.reason : (swift as PromiseRejectedResult).reason;
  }
  project.provide("s3Servers", { moto: moto.value.info(), swift: swift.value.info() });
  return stop;
}
