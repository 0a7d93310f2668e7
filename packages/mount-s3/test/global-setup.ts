import { type S3ServerInfo, type S3TestServer, startMoto, startSwift } from "@ws/test-servers";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The S3-compatible servers of this run, by name. */
    s3Servers: { moto: S3ServerInfo; swift: S3ServerInfo };
  }
}

/** Starts moto and Swift once for the whole run; a server that cannot start fails the run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // allSettled, so that a server which did start is stopped when the other one failed.
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
