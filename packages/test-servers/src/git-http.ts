import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireGit } from "./git-repos.js";
import { findExecutable, missingServer } from "./process-group.js";

/** A fault the git server injects into its next responses (for the error-path tests). */
export type GitHttpFault =
  /** Close the connection after sending this many bytes of an upload-pack (pack) response. */
  | { readonly kind: "die-mid-pack"; readonly afterBytes: number }
  /** Send this many bytes of the pack response, then stop sending without closing. */
  | { readonly kind: "stall-mid-pack"; readonly afterBytes: number };

export interface StartGitHttpOptions {
  /** The folder holding the bare repositories (`<root>/<owner>/<name>.git`), as GIT_PROJECT_ROOT. */
  readonly projectRoot: string;
  /**
   * When set, every request must carry this token (HTTP Basic with any user name, the token as
   * password, as GitHub takes `x-access-token:<token>`); others get 401 with a Basic challenge.
   */
  readonly token?: string | undefined;
  /** The keep-alive timeout (default 60 s: isomorphic-git reuses connections across long packs). */
  readonly keepAliveTimeoutMs?: number | undefined;
  /** Serve https with this key and certificate (see `selfSignedCert`) instead of http. */
  readonly tls?: { readonly key: string; readonly cert: string } | undefined;
  /**
   * How response bodies are framed: `"chunked"` (default) streams them as git http-backend writes
   * them; `"content-length"` holds each whole and sends it with a Content-Length, as some proxies do.
   */
  readonly framing?: "chunked" | "content-length" | undefined;
}

/** One request as the server saw it, for tests of what a client sends. */
export interface GitHttpRequestLog {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  /** The `Git-Protocol` header (`version=2` for protocol v2 requests such as ls-refs). */
  readonly protocol: string | undefined;
  readonly status: number;
}

export interface GitHttpServer {
  /** `http://127.0.0.1:PORT` (`https://` with `tls`); a repository is at `${url}/<owner>/<name>.git`. */
  readonly url: string;
  readonly projectRoot: string;
  /** Every request so far, in order. */
  readonly requests: readonly GitHttpRequestLog[];
  /** Injects a fault into upload-pack responses until cleared with `undefined`. */
  setFault(fault: GitHttpFault | undefined): void;
  stop(): Promise<void>;
}

/**
 * git's own smart-HTTP server (`git http-backend`, a CGI program run once per request) behind a
 * small Node HTTP server on 127.0.0.1 and a free port. It runs in the calling process (one per
 * test file); only the CGI children are separate processes, and they end with their request.
 */
export async function startGitHttp(options: StartGitHttpOptions): Promise<GitHttpServer> {
  const gitBinary = await requireGit();
  const requests: GitHttpRequestLog[] = [];
  const sockets = new Set<Socket>();
  const children = new Set<ReturnType<typeof spawn>>();
  let fault: GitHttpFault | undefined;
  const expected = options.token;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const log = (status: number): void => {
      requests.push({
        method: req.method ?? "GET",
        url: `${url.pathname}${url.search}`,
        authorization: req.headers.authorization,
        protocol: req.headers["git-protocol"] as string | undefined,
        status,
      });
    };
    if (expected !== undefined) {
      const auth = req.headers.authorization ?? "";
      const basic = /^Basic (.+)$/i.exec(auth);
      const password = basic
        ? Buffer.from(basic[1] ?? "", "base64")
            .toString("utf8")
            .replace(/^[^:]*:/, "")
        : /^Bearer (.+)$/i.exec(auth)?.[1];
      if (password !== expected) {
        log(401);
        req.resume();
        res.writeHead(401, { "www-authenticate": 'Basic realm="ws git"', "content-type": "text/plain" });
        res.end("authentication required\n");
        return;
      }
    }
    const isPack = url.pathname.endsWith("/git-upload-pack") && req.method === "POST";
    const child = spawn(gitBinary, ["http-backend"], {
      env: {
        PATH: process.env["PATH"] ?? "/usr/bin:/bin",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_PROJECT_ROOT: options.projectRoot,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ""),
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        CONTENT_LENGTH: req.headers["content-length"] ?? "",
        REMOTE_ADDR: "127.0.0.1",
        ...(req.headers["git-protocol"] ? { GIT_PROTOCOL: String(req.headers["git-protocol"]) } : {}),
        ...(req.headers["content-encoding"]
          ? { HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"]) }
          : {}),
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.add(child);
    child.on("close", () => children.delete(child));
    child.on("error", () => {
      if (!res.headersSent) {
        res.writeHead(500);
        res.end();
      }
    });
    child.stdin.on("error", () => {});
    child.stderr.resume();
    req.pipe(child.stdin);
    // Parse the CGI header block, then stream the body through.
    let head = Buffer.alloc(0);
    let headersDone = false;
    let sent = 0;
    const activeFault = isPack ? fault : undefined;
    const whole = options.framing === "content-length";
    const held: Buffer[] = [];
    let status = 200;
    const headers: Record<string, string> = {};
    const sendHeld = (): void => {
      const body = Buffer.concat(held);
      const cut = activeFault ? body.subarray(0, activeFault.afterBytes) : body;
      res.writeHead(status, { ...headers, "content-length": String(body.length) });
      res.write(cut);
      if (activeFault && cut.length < body.length) {
        if (activeFault.kind === "die-mid-pack") res.socket?.destroy();
        return;
      }
      res.end();
    };
    const writeBody = (chunk: Buffer): void => {
      if (whole) {
        held.push(chunk);
        return;
      }
      if (activeFault) {
        const room = activeFault.afterBytes - sent;
        if (room <= 0) return;
        if (chunk.length >= room) {
          res.write(chunk.subarray(0, room));
          sent += room;
          if (activeFault.kind === "die-mid-pack") {
            child.kill("SIGKILL");
            res.socket?.destroy();
          } else child.kill("SIGSTOP");
          return;
        }
      }
      sent += chunk.length;
      res.write(chunk);
    };
    child.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) {
        writeBody(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let end = head.indexOf("\r\n\r\n");
      let sepLength = 4;
      if (end < 0) {
        end = head.indexOf("\n\n");
        sepLength = 2;
      }
      if (end < 0) return;
      headersDone = true;
      for (const line of head.subarray(0, end).toString("latin1").split(/\r?\n/)) {
        const colon = line.indexOf(":");
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 200;
        else headers[name] = value;
      }
      log(status);
      if (!whole) res.writeHead(status, headers);
      const rest = head.subarray(end + sepLength);
      if (rest.length > 0) writeBody(rest);
    });
    child.stdout.on("end", () => {
      if (!headersDone) {
        log(502);
        res.writeHead(502);
      } else if (whole) {
        sendHeld();
        return;
      }
      if (!activeFault || sent < activeFault.afterBytes) res.end();
    });
  };

  const server: Server = options.tls ? createTlsServer(options.tls, handle) : createServer(handle);
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 60_000;
  server.headersTimeout = Math.max(server.keepAliveTimeout + 1000, 61_000);
  server.on(options.tls ? "secureConnection" : "connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  let stopping: Promise<void> | undefined;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    projectRoot: options.projectRoot,
    requests,
    setFault(next) {
      fault = next;
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        for (const child of children) child.kill("SIGKILL");
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return stopping;
    },
  };
}

/**
 * A fresh self-signed certificate for 127.0.0.1 and localhost (EC P-256, one day), made by
 * `openssl`: `cert` is also the CA a client must trust.
 */
export async function selfSignedCert(): Promise<{ key: string; cert: string }> {
  const openssl = await findExecutable("openssl");
  if (!openssl) {
    throw missingServer("openssl", "openssl", "apt-get install -y --no-install-recommends openssl");
  }
  const dir = await mkdtemp(join(tmpdir(), "ws-cert-"));
  try {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    await new Promise<void>((resolve, reject) => {
      execFile(
        openssl,
        [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=127.0.0.1",
          "-addext",
          "subjectAltName=IP:127.0.0.1,DNS:localhost",
          "-keyout",
          key,
          "-out",
          cert,
        ],
        (error) => (error ? reject(error) : resolve()),
      );
    });
    return { key: await readFile(key, "utf8"), cert: await readFile(cert, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
