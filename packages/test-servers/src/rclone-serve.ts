import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HttpTestServer } from "./http-server.js";
import { findExecutable, freePort, missingServer, startServerProcess } from "./process-group.js";

export interface StartRcloneServeOptions {
  /** `"http"` (an HTML index, read-only) or `"webdav"` (PROPFIND, PUT, MKCOL, DELETE). */
  readonly protocol: "http" | "webdav";
  /** The directory to serve (default: a fresh temp dir, removed by `stop()`). */
  readonly root?: string;
  /** Require HTTP Basic auth with these credentials (rclone's `--user` / `--pass`). */
  readonly credentials?: { readonly username: string; readonly password: string } | undefined;
  /** Milliseconds to wait until rclone answers (default 30 s). */
  readonly readyTimeoutMs?: number;
}

const RCLONE_INSTALL = "apt-get install -y --no-install-recommends rclone";

/**
 * Starts `rclone serve http` or `rclone serve webdav` over a local directory on 127.0.0.1 and a
 * free port, with `--dir-cache-time 0s` (rclone caches folder listings for 5 minutes otherwise, so
 * a test's own seeding would stay invisible). rclone 1.60: Range is honoured; `serve http` sends no
 * ETag; `serve webdav` sends ETags but ignores `If-Match` and `If-None-Match` on PUT, and a PUT
 * under a missing folder is a 404 (MKCOL first).
 */
export async function startRcloneServe(options: StartRcloneServeOptions): Promise<HttpTestServer> {
  const binary = await findExecutable("rclone");
  if (!binary) throw missingServer(`rclone serve ${options.protocol}`, "rclone", RCLONE_INSTALL);
  const dir = await mkdtemp(join(tmpdir(), `ws-rclone-${options.protocol}-`));
  const root = options.root ?? join(dir, "www");
  await mkdir(root, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const { stop } = await startServerProcess({
    name: `rclone serve ${options.protocol}`,
    binary,
    args: [
      "serve",
      options.protocol,
      root,
      "--addr",
      `127.0.0.1:${port}`,
      "--dir-cache-time",
      "0s",
      "--log-level",
      "ERROR",
      ...(options.credentials
        ? ["--user", options.credentials.username, "--pass", options.credentials.password]
        : []),
    ],
    dir,
    // A config file of its own: rclone must not read or write the user's.
    env: { ...process.env, RCLONE_CONFIG: join(dir, "rclone.conf") },
    waitingFor: `rclone serve ${options.protocol} on ${url}`,
    ready: async () => (await fetch(url, { signal: AbortSignal.timeout(1000) })).status < 500,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
  });
  const webdav = options.protocol === "webdav";
  const info = {
    name: `rclone-${options.protocol}`,
    url,
    dataDir: root,
    quirks: {
      listing: webdav ? "webdav" : "html",
      ranges: true,
      etags: webdav,
      dotFiles: true,
      writable: webdav,
    },
    ...(options.credentials ? { credentials: options.credentials } : {}),
  } as const;
  return { ...info, stop, info: () => info };
}
