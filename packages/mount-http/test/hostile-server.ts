import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A small HTTP server of the tests' own that misbehaves on purpose: listings with links out of
 * the tree, pages that never end, sizes that lie, bad digests, redirects elsewhere, error
 * statuses. Not a stand-in for any real service's API: the real servers are in @ws/test-servers.
 */
export interface HostileServer {
  /** `http://127.0.0.1:PORT/`. */
  readonly url: string;
  /** The same routes on another port (another origin), for redirects and links that leave the origin. */
  readonly otherOrigin: string;
  /** Every request seen: method, path and the Authorization header. */
  readonly requests: { method: string; path: string; authorization: string | undefined }[];
  stop(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, path: string) => void;

function send(
  res: ServerResponse,
  status: number,
  body: string | Uint8Array,
  type = "text/plain",
  headers: Record<string, string> = {},
): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, { "content-type": type, "content-length": String(bytes.length), ...headers });
  res.end(bytes);
}

const html = (links: readonly string[]): string =>
  `<html><body><ul>${links.map((l) => `<li><a href="${l.replace(/&/g, "&amp;").replace(/"/g, "&quot;")}">${l}</a></li>`).join("")}</ul></body></html>`;

export const GOOD_BYTES = "the only good file\n";
export const SHA_BYTES = "integrity matters\n";

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

let versionCounter = 0;

function routes(otherOrigin: () => string): Array<[RegExp, Handler]> {
  return [
    // An HTML index whose links try every way out of the tree; one real file.
    [
      /^\/escape\/$/,
      (_req, res) =>
        send(
          res,
          200,
          html([
            "../",
            "../secret.txt",
            "../../etc/passwd",
            "sub/../../x.txt",
            "%2e%2e/y.txt",
            "/other/c.txt",
            "http://evil.example/a.txt",
            "//evil.example/b.txt",
            "https://127.0.0.1/escape/https.txt",
            "good.txt?download=1",
            "good.txt#frag",
            "javascript:alert(1)",
            "a%2Fb.txt",
            "sub/deeper.txt",
            "good.txt",
          ]),
          "text/html",
        ),
    ],
    [
      /^\/escape\/good\.txt$/,
      (req, res) =>
        send(
          res,
          200,
          req.method === "HEAD" ? "" : GOOD_BYTES,
          "text/plain",
          req.method === "HEAD" ? { "content-length": String(GOOD_BYTES.length) } : {},
        ),
    ],
    // nginx-style JSON autoindex with names that are not names.
    [
      /^\/json\/$/,
      (_req, res) =>
        send(
          res,
          200,
          JSON.stringify([
            { name: "..", type: "directory" },
            { name: ".", type: "directory" },
            { name: "../x", type: "file", size: 1 },
            { name: "a/b", type: "file", size: 1 },
            { name: "", type: "file", size: 1 },
            { name: "nul\u0000", type: "file", size: 1 },
            { name: "good.txt", type: "file", size: GOOD_BYTES.length },
          ]),
          "application/json",
        ),
    ],
    [/^\/json\/good\.txt$/, (_req, res) => send(res, 200, GOOD_BYTES)],
    // WebDAV hrefs that point out of the tree.
    [
      /^\/dav\/$/,
      (req, res) => {
        if (req.method !== "PROPFIND") return send(res, 405, "");
        const response = (href: string, size: number) =>
          `<D:response><D:href>${href}</D:href><D:propstat><D:prop><D:resourcetype/><D:getcontentlength>${size}</D:getcontentlength></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`;
        send(
          res,
          207,
          `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>/dav/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>${[
            response("/etc/passwd", 1),
            response("/dav/../etc/shadow", 1),
            response("http://evil.example/dav/x", 1),
            response("/dav/a%2Fb", 1),
            response("/dav/good.txt", GOOD_BYTES.length),
          ].join("")}</D:multistatus>`,
          "application/xml",
        );
      },
    ],
    [/^\/dav\/good\.txt$/, (_req, res) => send(res, 200, GOOD_BYTES)],
    // A WebDAV server that refuses Depth: infinity (as Apache does by default): walked with Depth 1.
    [
      /^\/dav(?:1|-shallow)\/(?:sub\/)?$/,
      (req, res) => {
        if (req.method !== "PROPFIND") return send(res, 405, "");
        const shallow = (req.url ?? "").startsWith("/dav-shallow/");
        // /dav-shallow/ answers Depth: infinity as if it were Depth: 1 (some servers do).
        const depth = shallow && req.headers.depth === "infinity" ? "1" : req.headers.depth;
        if (depth === "infinity") return send(res, 403, "<propfind-finite-depth/>", "application/xml");
        const self = (req.url ?? "").split("?")[0] ?? "";
        const root = shallow ? "/dav-shallow/" : "/dav1/";
        const collection = (href: string) =>
          `<D:response><D:href>${href}</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`;
        const file = (href: string, size: number) =>
          `<D:response><D:href>${href}</D:href><D:propstat><D:prop><D:resourcetype/><D:getcontentlength>${size}</D:getcontentlength><D:getetag>"e-${size}"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`;
        const children =
          depth === "0"
            ? ""
            : self === root
              ? `${file(`${root}a.txt`, 1)}${collection(`${root}sub/`)}`
              : `${file(`${root}sub/b.txt`, 2)}${file(`${root}sub/deeper/c.txt`, 3)}`;
        send(
          res,
          207,
          `<D:multistatus xmlns:D="DAV:">${collection(self)}${children}</D:multistatus>`,
          "application/xml",
        );
      },
    ],
    [/^\/dav1\/a\.txt$/, (_req, res) => send(res, 200, "a")],
    [/^\/dav1\/sub\/b\.txt$/, (_req, res) => send(res, 200, "bb")],
    // A WebDAV server that honours preconditions: every conditional PUT fails 412.
    [
      /^\/precondition\/.*$/,
      (req, res) => {
        if (req.method === "PROPFIND") {
          return send(
            res,
            207,
            `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/precondition/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`,
            "application/xml",
          );
        }
        if (req.method === "PUT" && (req.headers["if-match"] || req.headers["if-none-match"]))
          return send(res, 412, "");
        if (req.method === "PUT") return send(res, 201, "", "text/plain", { etag: '"new-etag"' });
        send(res, 405, "");
      },
    ],
    // A WebDAV answer that announces 300 MiB: refused from its Content-Length, nothing buffered.
    [
      /^\/huge-dav\/$/,
      (_req, res) => {
        res.writeHead(207, {
          "content-type": "application/xml",
          "content-length": String(300 * 1024 * 1024),
        });
        res.write('<D:multistatus xmlns:D="DAV:">');
      },
    ],
    // A server whose 206 answers are not the range asked for.
    [
      /^\/ranges\/$/,
      (_req, res) =>
        send(res, 200, JSON.stringify([{ name: "bad.bin", type: "file", size: 1000 }]), "application/json"),
    ],
    [
      /^\/ranges\/bad\.bin$/,
      (_req, res) =>
        send(res, 206, Buffer.alloc(100, 7), "application/octet-stream", {
          "content-range": "bytes 0-99/1000",
        }),
    ],
    // Ranged reads: a server that ignores Range and sends a body that never ends (no
    // Content-Length; byte i is i % 251), and one whose 206 lies about the file's size.
    [
      /^\/endless\/stream\.bin$/,
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        let at = 0;
        const more = (): void => {
          while (!res.destroyed) {
            const piece = Buffer.alloc(64 * 1024);
            for (let i = 0; i < piece.length; i++) piece[i] = (at + i) % 251;
            at += piece.length;
            if (!res.write(piece)) {
              res.once("drain", more);
              return;
            }
          }
        };
        more();
      },
    ],
    // A file whose every answer carries a new ETag (replaced between ranges), and one that
    // honours Range for the first range only (a 200 with the whole file for the others).
    [
      /^\/versions\/$/,
      (_req, res) =>
        send(
          res,
          200,
          JSON.stringify([
            { name: "v.bin", type: "file", size: 4000 },
            { name: "mixed.bin", type: "file", size: 4000 },
          ]),
          "application/json",
        ),
    ],
    [
      /^\/versions\/(?:v|mixed)\.bin$/,
      (req, res) => {
        const range = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "");
        const start = Number(range?.[1] ?? 0);
        const end = Number(range?.[2] ?? 3999);
        if ((req.url ?? "").includes("mixed") && start > 0) {
          return send(res, 200, Buffer.alloc(4000, 5), "application/octet-stream");
        }
        versionCounter++;
        send(res, 206, Buffer.alloc(end - start + 1, 5), "application/octet-stream", {
          "content-range": `bytes ${start}-${end}/4000`,
          etag: `"v${versionCounter}"`,
        });
      },
    ],
    // A 206 that ends where asked but starts one byte late (not listed in /ranges/).
    [
      /^\/ranges\/shifted\.bin$/,
      (req, res) => {
        const range = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "");
        const start = Number(range?.[1] ?? 0) + 1;
        const end = Number(range?.[2] ?? 999);
        send(res, 206, Buffer.alloc(end - start + 1, 2), "application/octet-stream", {
          "content-range": `bytes ${start}-${end}/1000`,
        });
      },
    ],
    [
      /^\/grown\/$/,
      (_req, res) =>
        send(res, 200, JSON.stringify([{ name: "grown.bin", type: "file", size: 1000 }]), "application/json"),
    ],
    [
      /^\/grown\/grown\.bin$/,
      (req, res) => {
        const range = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "");
        const start = Number(range?.[1] ?? 0);
        const end = Math.min(Number(range?.[2] ?? 1999), 1999);
        send(res, 206, Buffer.alloc(end - start + 1, 1), "application/octet-stream", {
          "content-range": `bytes ${start}-${end}/2000`,
        });
      },
    ],
    // Large-read fast path: a chunked answer (not framed by Content-Length) and one cut short.
    [
      /^\/fast\/$/,
      (_req, res) =>
        send(
          res,
          200,
          JSON.stringify([
            { name: "chunked.bin", type: "file", size: 5000 },
            { name: "cut.bin", type: "file", size: 5000 },
          ]),
          "application/json",
        ),
    ],
    [
      /^\/fast\/chunked\.bin$/,
      (req, res) => {
        const range = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "");
        const start = range ? Number(range[1]) : 0;
        const end = range ? Number(range[2]) : 4999;
        res.writeHead(range ? 206 : 200, {
          "content-type": "application/octet-stream",
          ...(range ? { "content-range": `bytes ${start}-${end}/5000` } : {}),
        });
        const bytes = Buffer.alloc(end - start + 1);
        for (let i = 0; i < bytes.length; i++) bytes[i] = (start + i) % 251;
        res.write(bytes.subarray(0, 10));
        res.end(bytes.subarray(10));
      },
    ],
    [
      /^\/fast\/cut\.bin$/,
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "5000" });
        res.end(Buffer.alloc(100, 1));
        res.socket?.destroy();
      },
    ],
    // A tree that never ends: every folder links to a deeper one.
    [/^\/deep\/(?:n\/)*$/, (_req, res) => send(res, 200, html(["n/", "f.txt"]), "text/html")],
    [/^\/deep\/(?:n\/)*f\.txt$/, (_req, res) => send(res, 200, "f")],
    // A tree that never ends in width: every folder links to two new ones.
    [/^\/wide\/(?:[ab]\/)*$/, (_req, res) => send(res, 200, html(["a/", "b/"]), "text/html")],
    // Two pages linking to each other (absolute paths, so neither is the other's child).
    [/^\/loop\/$/, (_req, res) => send(res, 200, html(["a/"]), "text/html")],
    [/^\/loop\/a\/$/, (_req, res) => send(res, 200, html(["/loop/b/", "../", "x.txt"]), "text/html")],
    [/^\/loop\/b\/$/, (_req, res) => send(res, 200, html(["/loop/a/"]), "text/html")],
    [/^\/loop\/a\/x\.txt$/, (_req, res) => send(res, 200, "x")],
    // Manifests that loop, leave the origin, lie about sizes or digests.
    [
      /^\/manifest-loop\/manifest\.json$/,
      (_req, res) =>
        send(
          res,
          200,
          JSON.stringify({ version: 1, files: [{ path: "a", size: 1 }], next: "page-2.json" }),
          "application/json",
        ),
    ],
    [
      /^\/manifest-loop\/page-2\.json$/,
      (_req, res) =>
        send(
          res,
          200,
          JSON.stringify({ version: 1, files: [{ path: "b", size: 1 }], next: "manifest.json" }),
          "application/json",
        ),
    ],
    [
      /^\/manifest-away\/manifest\.json$/,
      (_req, res) =>
        send(
          res,
          200,
          JSON.stringify({ version: 1, files: [], next: `${otherOrigin()}manifest-away/page-2.json` }),
          "application/json",
        ),
    ],
    [
      /^\/manifest\/manifest\.json$/,
      (_req, res) =>
        send(
          res,
          200,
          JSON.stringify({
            version: 1,
            files: [
              { path: "good.txt", size: SHA_BYTES.length, sha256: sha256(SHA_BYTES) },
              { path: "tampered.txt", size: SHA_BYTES.length, sha256: sha256(SHA_BYTES) },
              { path: "short.txt", size: 100 },
              { path: "long.txt", size: 5 },
              { path: "dir/nested.txt", size: 6, mtime: "2026-01-02T03:04:05Z", mode: "0755", etag: '"n1"' },
              { path: "../escape.txt", size: 1 },
            ],
            next: "page-2.json",
          }),
          "application/json",
        ),
    ],
    [
      /^\/manifest\/page-2\.json$/,
      (_req, res) =>
        send(
          res,
          200,
          JSON.stringify({ version: 1, files: [{ path: "page2.txt", size: 2 }] }),
          "application/json",
        ),
    ],
    [/^\/manifest\/good\.txt$/, (_req, res) => send(res, 200, SHA_BYTES)],
    [/^\/manifest\/tampered\.txt$/, (_req, res) => send(res, 200, SHA_BYTES.replace("m", "M"))],
    [/^\/manifest\/short\.txt$/, (_req, res) => send(res, 200, "only a few bytes")],
    [/^\/manifest\/long\.txt$/, (_req, res) => send(res, 200, "far more than five bytes")],
    [/^\/manifest\/dir\/nested\.txt$/, (_req, res) => send(res, 200, "nested")],
    [/^\/manifest\/page2\.txt$/, (_req, res) => send(res, 200, "p2")],
    // A Content-Length that promises more than the body holds: the connection closes early.
    [
      /^\/truncated\/cut\.bin$/,
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "1000" });
        res.end(Buffer.alloc(10, 1));
        res.socket?.destroy();
      },
    ],
    // Redirects: within the origin (followed), to another origin (refused), in a loop.
    [
      /^\/redirect\/inside\.txt$/,
      (_req, res) => send(res, 302, "", "text/plain", { location: "/redirect/target.txt" }),
    ],
    [/^\/redirect\/target\.txt$/, (_req, res) => send(res, 200, "target")],
    // A listed 6-byte file behind a redirect whose own body is far larger than the file.
    [
      /^\/manifest-redirect\/manifest\.json$/,
      (_req, res) =>
        send(
          res,
          200,
          JSON.stringify({ version: 1, files: [{ path: "r.txt", size: 6 }] }),
          "application/json",
        ),
    ],
    [
      /^\/manifest-redirect\/r\.txt$/,
      (_req, res) =>
        send(res, 302, "<html>moved</html>".repeat(200), "text/html", { location: "/redirect/target.txt" }),
    ],

    [
      /^\/redirect\/away\.txt$/,
      (_req, res) => send(res, 302, "", "text/plain", { location: `${otherOrigin()}redirect/target.txt` }),
    ],
    [
      /^\/redirect\/loop\.txt$/,
      (_req, res) => send(res, 302, "", "text/plain", { location: "/redirect/loop.txt" }),
    ],
    [
      /^\/redirect\/folder$/,
      (_req, res) => send(res, 301, "", "text/plain", { location: "/redirect/folder/" }),
    ],
    // Statuses.
    [
      /^\/status\/401\/.*/,
      (_req, res) => send(res, 401, "who are you", "text/plain", { "www-authenticate": 'Basic realm="x"' }),
    ],
    [/^\/status\/403\/.*/, (_req, res) => send(res, 403, "no")],
    [/^\/status\/429\/.*/, (_req, res) => send(res, 429, "slow down", "text/plain", { "retry-after": "7" })],
    [/^\/status\/503\/.*/, (_req, res) => send(res, 503, "busy", "text/plain", { "retry-after": "2" })],
    [/^\/status\/500\/.*/, (req, res) => send(res, 500, `echo: ${req.headers.authorization ?? ""}`)],
    [/^\/status\/418\/.*/, (_req, res) => send(res, 418, "teapot")],
    // A body that trickles in (10 pieces, 100 ms apart), and one that stalls after its first piece.
    [
      /^\/trickle\/(?:flowing|stalled)\.bin$/,
      (req, res) => {
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "10" });
        const stalled = (req.url ?? "").includes("stalled");
        let sent = 0;
        const timer = setInterval(() => {
          if (res.destroyed || (stalled && sent === 1)) return;
          res.write(Buffer.from([sent]));
          if (++sent === 10) {
            clearInterval(timer);
            res.end();
          }
        }, 100);
        res.on("close", () => clearInterval(timer));
      },
    ],
    [/^\/slow\/.*/, () => undefined /* never answers */],
    // An index served as plain text: no way to tell the format.
    [/^\/plain\/$/, (_req, res) => send(res, 200, "just text")],
  ];
}

/** Starts the hostile server on 127.0.0.1 and a free port, and its twin on another port (another origin). */
export async function startHostileServer(): Promise<HostileServer> {
  const requests: HostileServer["requests"] = [];
  let otherPort = 0;
  const table = routes(() => `http://127.0.0.1:${otherPort}/`);
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const raw = (req.url ?? "/").split("?")[0] ?? "/";
    let path = raw;
    try {
      path = decodeURIComponent(raw);
    } catch {
      // Keep the raw path.
    }
    requests.push({ method: req.method ?? "", path, authorization: req.headers.authorization });
    req.resume();
    for (const [pattern, handler] of table) {
      if (pattern.test(raw)) {
        handler(req, res, path);
        return;
      }
    }
    send(res, 404, "not found");
  };
  const servers: Server[] = [createServer(listener), createServer(listener)];
  const ports: number[] = [];
  for (const server of servers) {
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    ports.push((server.address() as AddressInfo).port);
  }
  otherPort = ports[1] as number;
  return {
    url: `http://127.0.0.1:${ports[0]}/`,
    otherOrigin: `http://127.0.0.1:${otherPort}/`,
    requests,
    stop: async () => {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}
