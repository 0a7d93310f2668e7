import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HttpTestServer } from "./http-server.js";
import { findExecutable, freePort, missingServer, portOpen, startServerProcess } from "./process-group.js";

export interface StartNginxOptions {
  /** The directory to serve (default: a fresh temp dir, removed by `stop()`). */
  readonly root?: string;
  /** The autoindex format of folder URLs (default `"json"`). */
  readonly autoindex?: "json" | "html";
  /** Milliseconds to wait until nginx answers (default 30 s). */
  readonly readyTimeoutMs?: number;
}

const NGINX_INSTALL = "apt-get install -y --no-install-recommends nginx-light";

function config(dir: string, root: string, port: number, format: "json" | "html"): string {
  // As root, nginx's workers would drop to "nobody", which cannot read a 0700 temp dir.
  const user = process.getuid?.() === 0 ? "user root root;\n" : "";
  return `${user}daemon off;
master_process on;
worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 100000;
  client_body_temp_path ${join(dir, "body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};
  types { text/html html; application/json json; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { autoindex on; autoindex_format ${format}; autoindex_exact_size on; }
  }
}
`;
}

/**
 * Starts Debian's nginx on 127.0.0.1 on a free port, serving `root` with `autoindex` in JSON or
 * HTML. ETags are `"mtime-size"` (a same-size rewrite within one second keeps the ETag); Range is
 * honoured; autoindex never lists names that start with a dot.
 */
export async function startNginx(options: StartNginxOptions = {}): Promise<HttpTestServer> {
  const binary = (await findExecutable("nginx")) ?? (await findExecutable("/usr/sbin/nginx"));
  if (!binary) throw missingServer("nginx", "nginx", NGINX_INSTALL);
  const format = options.autoindex ?? "json";
  const dir = await mkdtemp(join(tmpdir(), "ws-nginx-"));
  const root = options.root ?? join(dir, "www");
  await mkdir(root, { recursive: true });
  const port = await freePort();
  await writeFile(join(dir, "nginx.conf"), config(dir, root, port, format));
  const url = `http://127.0.0.1:${port}/`;
  // -e: without it nginx first opens the compiled-in /var/log/nginx/error.log, which may not be writable.
  const { stop } = await startServerProcess({
    name: "nginx",
    binary,
    args: ["-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")],
    dir,
    waitingFor: `nginx on ${url}`,
    ready: () => portOpen(port),
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
  });
  const info = {
    name: `nginx-${format}`,
    url,
    dataDir: root,
    quirks: {
      listing: format === "json" ? "autoindex-json" : "html",
      ranges: true,
      etags: true,
      dotFiles: false,
      writable: false,
    },
  } as const;
  return { ...info, stop, info: () => info };
}
