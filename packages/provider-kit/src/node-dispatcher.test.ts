import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import type { Dispatcher } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { nodeDispatcher } from "./node-dispatcher.js";

// nodeDispatcher against raw TCP servers on 127.0.0.1 that misbehave on purpose.
const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(onConnection: (socket: Socket) => void): Promise<URL> {
  const server = createServer((socket) => {
    sockets.push(socket);
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

/** One GET through the dispatcher: its status and body, or the error its handler was given. */
function get(
  dispatcher: ReturnType<typeof nodeDispatcher>,
  origin: URL,
): Promise<{ status: number; body: string } | { error: Error }> {
  return new Promise((resolve) => {
    let status = 0;
    let body = "";
    const handler: Dispatcher.DispatchHandler = {
      onResponseStart(_c, code) {
        status = code;
      },
      onResponseData(_c, chunk) {
        body += chunk.toString();
      },
      onResponseEnd() {
        resolve({ status, body });
      },
      onResponseError(_c, error) {
        resolve({ error });
      },
    };
    dispatcher.dispatch({ origin: origin.origin, path: "/x", method: "GET", headers: {} }, handler);
  });
}

describe("nodeDispatcher", () => {
  it("a server that never answers fails ETIMEDOUT after timeoutMs", async () => {
    const origin = await serve(() => {});
    const dispatcher = nodeDispatcher(origin, { connections: 2, timeoutMs: 200 });
    const started = Date.now();
    const result = await get(dispatcher, origin);
    expect("error" in result && (result.error as { code?: string }).code).toBe("ETIMEDOUT");
    expect(Date.now() - started).toBeLessThan(5000);
    dispatcher.close();
  });

  it("a kept-alive socket the server closed while idle: the next request is sent again on a fresh one", async () => {
    let connections = 0;
    const origin = await serve((socket) => {
      connections++;
      let requests = 0;
      socket.on("data", () => {
        // The first request on a connection is answered and the connection kept; the second finds
        // it closed before any answer, as when a server's idle timeout and a new request cross.
        if (++requests === 1) {
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok");
        } else socket.destroy();
      });
    });
    const dispatcher = nodeDispatcher(origin, { connections: 1 });
    expect(await get(dispatcher, origin)).toEqual({ status: 200, body: "ok" });
    await new Promise((r) => setTimeout(r, 20));
    expect(await get(dispatcher, origin)).toEqual({ status: 200, body: "ok" });
    expect(connections).toBe(2);
    dispatcher.close();
  });

  it("a body cut short of its Content-Length is an error, not a short answer", async () => {
    const origin = await serve((socket) => {
      socket.once("data", () => {
        socket.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
      });
    });
    const dispatcher = nodeDispatcher(origin, { connections: 1 });
    const result = await get(dispatcher, origin);
    expect("error" in result).toBe(true);
    dispatcher.close();
  });
});
