import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What a body fault does to the answer of one matching GET, after sending its headers and half its body. */
export type BodyFault =
  /** The connection is reset (TCP RST) half-way through the body. */
  | "reset"
  /** The connection is closed cleanly (FIN) half-way through the body: fewer bytes than Content-Length. */
  | "truncate"
  /** Nothing more is sent, and the connection stays open. */
  | "stall";

/**
 * Fault injection in front of the real moto: a pass-through proxy that can answer the next
 * requests itself (503 SlowDown), swallow them (no answer at all), or cut the body of the next
 * matching GETs (reset, truncate, stall). Everything else is moto's.
 */
export interface FaultProxy {
  readonly endpoint: string;
  /** The next `count` requests get 503 SlowDown. */
  slowDown(count: number): void;
  /** The next `count` requests are accepted and never answered. */
  blackHole(count: number): void;
  /**
   * The next `count` GETs whose path ends with `/${key}` get moto's status, headers and the first
   * half of its body, then `fault`. `count` 0 turns it off.
   */
  cutBody(fault: BodyFault, count: number, key: string): void;
  readonly seen: { requests: number; sdkRequests: number; cut: number };
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let slow = 0;
  let hole = 0;
  let cut: { fault: BodyFault; count: number; key: string } | undefined;
  const seen = { requests: 0, sdkRequests: 0, cut: 0 };
  const server: Server = createServer((req, res) => {
    seen.requests++;
    // The SDK's middleware adds x-amz-user-agent; the fast read path sends no such header.
    if (req.headers["x-amz-user-agent"] !== undefined) seen.sdkRequests++;
    if (slow > 0) {
      slow--;
      req.resume();
      res.writeHead(503, { "content-type": "application/xml" });
      res.end(
        '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      );
      return;
    }
    if (hole > 0) {
      hole--;
      req.resume(); // read the request, never answer
      return;
    }
    const fault = cut && cut.count > 0 && matches(req, cut.key) ? cut.fault : undefined;
    if (fault && cut) {
      cut.count--;
      seen.cut++;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        if (!fault) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        // The whole answer first, then its headers (Content-Length kept) and half of its body.
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          const body = Buffer.concat(chunks);
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.flushHeaders();
          res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
            const socket = res.socket;
            if (!socket) return;
            // Let the client read what was sent before the reset (an RST can discard unread data).
            if (fault === "reset") setTimeout(() => socket.resetAndDestroy(), 50);
            else if (fault === "truncate") socket.end();
            // "stall": nothing more; close() tears it down.
          });
        });
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    slowDown: (count) => {
      slow = count;
    },
    blackHole: (count) => {
      hole = count;
    },
    cutBody: (fault, count, key) => {
      cut = count > 0 ? { fault, count, key } : undefined;
    },
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function matches(req: IncomingMessage, key: string): boolean {
  if (req.method !== "GET") return false;
  const path = (req.url ?? "").split("?")[0] ?? "";
  return path.endsWith(`/${key}`);
}
