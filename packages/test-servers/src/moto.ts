import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  findExecutable,
  freePort,
  guardCleanup,
  missingServer,
  spawnServer,
  stopServer,
  waitUntil,
} from "./process-group.js";
import type { S3ServerInfo, S3TestServer } from "./s3-server.js";

export interface StartMotoOptions {
  /** Milliseconds to wait for `GET /moto-api/` to answer (default 60 s: Python starts slowly on a busy machine). */
  readonly readyTimeoutMs?: number;
}

const MOTO_INSTALL = "pip install 'moto[server]' (moto_server is preinstalled on the project's machines)";

/**
 * Starts `moto_server` on 127.0.0.1 on a free port and waits until it answers. Any access key
 * works on moto; the ones returned are fixed test values.
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<S3TestServer> {
  const binary = await findExecutable("moto_server");
  if (!binary) throw missingServer("moto", "moto_server", MOTO_INSTALL);
  const dir = await mkdtemp(join(tmpdir(), "ws-moto-"));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server = spawnServer("moto_server", binary, ["-H", "127.0.0.1", "-p", String(port)], {
    cwd: dir,
    env: { ...process.env, TMPDIR: dir, MOTO_ALLOW_NONEXISTENT_REGION: "true" },
  });
  const release = guardCleanup(server.child.pid === undefined ? [] : [server.child.pid], dir);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await stopServer(server);
      release();
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  try {
    await waitUntil(
      `moto on ${endpoint}`,
      async () => (await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) })).ok,
      [server],
      options.readyTimeoutMs ?? 60_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const info: S3ServerInfo = {
    name: "moto",
    endpoint,
    region: "us-east-1",
    accessKeyId: "AKIAWSMOUNTSTESTKEY0",
    secretAccessKey: "moto-test-secret-0123456789abcdefghijklmn",
    forcePathStyle: true,
    quirks: { conditionalPut: true, streamingChecksums: true, deleteObjectsNeedsContentMd5: false },
  };
  return { ...info, dataDir: dir, stop, info: () => info };
}

/** Wipes every bucket and object of a moto server (`POST /moto-api/reset`). */
export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, {
    method: "POST",
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
}
