import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { HttpTestServer } from "./http-server.js";
import { startNginx } from "./nginx.js";
import { portOpen } from "./process-group.js";
import { startPythonHttp } from "./python-http.js";
import { startRcloneServe } from "./rclone-serve.js";

const TIMEOUT = { timeout: 60_000 };

const starters: Record<string, () => Promise<HttpTestServer>> = {
  "nginx-json": () => startNginx({ autoindex: "json" }),
  "nginx-html": () => startNginx({ autoindex: "html" }),
  "rclone-http": () => startRcloneServe({ protocol: "http" }),
  "rclone-webdav": () => startRcloneServe({ protocol: "webdav" }),
  "python-http": () => startPythonHttp(),
};

describe.each(Object.entries(starters))("%s", (name, start) => {
  it(
    "serves its directory on 127.0.0.1 with the declared Range and ETag quirks, and stops",
    TIMEOUT,
    async () => {
      const server = await start();
      const port = Number(new URL(server.url).port);
      try {
        expect(server.name).toBe(name);
        expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
        await writeFile(join(server.dataDir, "probe.txt"), "0123456789");
        const whole = await fetch(`${server.url}probe.txt`, { signal: AbortSignal.timeout(10_000) });
        expect(await whole.text()).toBe("0123456789");
        expect(whole.headers.has("etag")).toBe(server.quirks.etags);
        const ranged = await fetch(`${server.url}probe.txt`, {
          headers: { range: "bytes=2-4" },
          signal: AbortSignal.timeout(10_000),
        });
        expect(ranged.status).toBe(server.quirks.ranges ? 206 : 200);
        await ranged.arrayBuffer();
        const index = await fetch(server.url, { signal: AbortSignal.timeout(10_000) });
        expect(await index.text()).toContain("probe.txt");
      } finally {
        await server.stop();
      }
      await server.stop();
      expect(await portOpen(port)).toBe(false);
    },
  );
});
