import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HttpTestServer } from "./http-server.js";
import { findExecutable, freePort, missingServer, startServerProcess } from "./process-group.js";

export interface StartPythonHttpOptions {
  /** The directory to serve (default: a fresh temp dir, removed by `stop()`). */
  readonly root?: string;
  /** Milliseconds to wait until the server answers (default 30 s). */
  readonly readyTimeoutMs?: number;
}

const PYTHON_INSTALL = "apt-get install -y --no-install-recommends python3";

/**
 * Starts `python3 -m http.server` on 127.0.0.1 and a free port. It speaks HTTP/1.0 (a connection
 * per request), ignores `Range` (200 with the whole body), sends no ETag (only Last-Modified,
 * to the second), follows symlinks, and lists folders as an HTML page of links without sizes.
 */
export async function startPythonHttp(options: StartPythonHttpOptions = {}): Promise<HttpTestServer> {
  const binary = (await findExecutable("/usr/bin/python3")) ?? (await findExecutable("python3"));
  if (!binary) throw missingServer("python3 -m http.server", "python3", PYTHON_INSTALL);
  const dir = await mkdtemp(join(tmpdir(), "ws-python-http-"));
  const root = options.root ?? join(dir, "www");
  await mkdir(root, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const { stop } = await startServerProcess({
    name: "python3 -m http.server",
    binary,
    args: ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", root],
    dir,
    waitingFor: `python3 -m http.server on ${url}`,
    ready: async () => (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
  });
  const info = {
    name: "python-http",
    url,
    dataDir: root,
    quirks: { listing: "html", ranges: false, etags: false, dotFiles: true, writable: false },
  } as const;
  return { ...info, stop, info: () => info };
}
