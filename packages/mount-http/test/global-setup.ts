import type { HttpServerInfo, HttpTestServer } from "@ws/test-servers";
import type { TestProject } from "vitest/node";
// Vitest loads global setup files without the "@ws/source" condition: import the sources directly.
import { startNginx, startPythonHttp, startRcloneServe } from "../../test-servers/src/index.js";

export type HttpServerName = "nginx-json" | "nginx-html" | "rclone-http" | "rclone-webdav" | "python-http";

declare module "vitest" {
  export interface ProvidedContext {
    /** The HTTP servers of this run, by name. */
    httpServers: Record<HttpServerName, HttpServerInfo>;
  }
}

/** A test password: rclone's WebDAV server requires Basic auth, so the mount's auth path is always exercised. */
export const WEBDAV_CREDENTIALS = { username: "ws", password: "webdav-test-secret-7f3a9c" } as const;

/** Starts every server once for the whole run; a server that cannot start fails the run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const starters: Record<HttpServerName, () => Promise<HttpTestServer>> = {
    "nginx-json": () => startNginx({ autoindex: "json" }),
    "nginx-html": () => startNginx({ autoindex: "html" }),
    "rclone-http": () => startRcloneServe({ protocol: "http" }),
    "rclone-webdav": () => startRcloneServe({ protocol: "webdav", credentials: WEBDAV_CREDENTIALS }),
    "python-http": () => startPythonHttp(),
  };
  const names = Object.keys(starters) as HttpServerName[];
  // allSettled, so that the servers which did start are stopped when another one failed.
  const results = await Promise.allSettled(names.map((name) => starters[name]()));
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((s) => s.stop()));
  };
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const infos = Object.fromEntries(
    names.map((name, i) => [name, (results[i] as PromiseFulfilledResult<HttpTestServer>).value.info()]),
  ) as Record<HttpServerName, HttpServerInfo>;
  project.provide("httpServers", infos);
  return stop;
}
