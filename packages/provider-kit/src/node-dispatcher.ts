import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Dispatcher } from "undici";

/** What `readInto` needs of a dispatcher: undici's `dispatch` with the v7 handler. */
export type DispatchOnly = Pick<Dispatcher, "dispatch">;

/** A keep-alive `node:http` agent behind undici's `dispatch` (see `nodeDispatcher`). */
export interface NodeDispatcher extends DispatchOnly {
  /** Closes the idle sockets (requests in flight finish). */
  close(): void;
}

/**
 * undici's `dispatch` (the v7 handler: `onRequestStart`, `onResponseStart`, `onResponseData`,
 * `onResponseEnd`, `onResponseError`) over `node:http`/`node:https` with a keep-alive agent of
 * `connections` sockets for one origin: a handler written for `httpPool` runs unchanged through
 * Node's built-in HTTP parser. Timeouts are the handler's own (as with the pool, abort through
 * the controller); request bodies are sent whole. `close()` closes the idle sockets.
 *
 * Why a second transport: undici parses responses with llhttp compiled to WebAssembly, and V8
 * optimizes that parser's main function (TurboFan) once it is hot, after the first few hundred
 * KiB of responses: about 29 MiB of compiler memory for ~0.1 s, once per process
 * (`node --trace-wasm-compilation-times`). A process that only lists a tree and streams a large
 * file paid it on top of the stream (`npm run bench -- stream`: 103 MiB peak RSS for an indexed
 * HttpTree mount with nothing read, 68 MiB without). Node's own parser is native code. HttpTree's
 * listings and ranges and S3Bucket's `fetchRange` go through this; whole-object reads of small
 * objects stay on the undici pool, which costs less CPU per request.
 */
export function nodeDispatcher(
  origin: URL,
  options: {
    readonly connections: number;
    /**
     * A request whose socket stays silent this long (connecting, waiting for the headers, between
     * two pieces of the body) fails `ETIMEDOUT`, as the pool's headers and body timeouts. Default
     * none: the handler keeps its own timer.
     */
    readonly timeoutMs?: number | undefined;
  },
): NodeDispatcher {
  const secure = origin.protocol === "https:";
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.connections,
    maxFreeSockets: options.connections,
  };
  const agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  const send = secure ? httpsRequest : httpRequest;
  return {
    close: () => agent.destroy(),
    dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      const url = new URL(opts.path, opts.origin ?? origin);
      let failed = false;
      let ended = false;
      let req: ClientRequest | undefined;
      // One error reaches the handler, once, and nothing after it.
      const fail = (error: Error): void => {
        if (failed || ended) return;
        failed = true;
        handler.onResponseError?.(controller, error);
      };
      const controller = {
        abort(reason: Error): void {
          fail(reason);
          req?.destroy();
        },
        pause(): void {},
        resume(): void {},
        get paused(): boolean {
          return false;
        },
        get aborted(): boolean {
          return failed;
        },
        get reason(): Error | null {
          return null;
        },
        rawTrailers: undefined,
      } as unknown as Dispatcher.DispatchController;
      const attempt = (retried: boolean): void => {
        const r = send(url, { agent, method: opts.method, headers: opts.headers as Record<string, string> });
        req = r;
        let answered = false;
        const timeoutMs = options.timeoutMs;
        if (timeoutMs !== undefined) {
          r.setTimeout(timeoutMs, () => {
            fail(Object.assign(new Error(`nothing arrived for ${timeoutMs} ms`), { code: "ETIMEDOUT" }));
            r.destroy();
          });
        }
        r.on("error", (error) => {
          // A kept-alive socket the server closed while it was idle fails before any answer:
          // ask once more on a fresh one (undici does the same; only idempotent methods come here).
          if (!answered && !retried && r.reusedSocket && !failed && opts.method !== "PUT") {
            attempt(true);
            return;
          }
          fail(error);
        });
        r.on("response", (res: IncomingMessage) => {
          answered = true;
          res.on("error", fail);
          res.on("close", () => {
            if (!res.complete)
              fail(
                Object.assign(new Error("the connection closed before the body ended"), {
                  code: "ECONNRESET",
                }),
              );
          });
          if (failed) {
            r.destroy();
            return;
          }
          handler.onResponseStart?.(controller, res.statusCode ?? 0, res.headers, res.statusMessage ?? "");
          res.on("data", (chunk: Buffer) => {
            if (!failed) handler.onResponseData?.(controller, chunk);
          });
          res.on("end", () => {
            if (failed || ended) return;
            ended = true;
            handler.onResponseEnd?.(controller, {});
          });
        });
        // A request body is sent whole; nothing here streams one.
        const body = opts.body;
        if (typeof body === "string" || body instanceof Uint8Array) r.end(body);
        else r.end();
      };
      handler.onRequestStart?.(controller, {});
      if (!failed) attempt(false);
      return true;
    },
  } as NodeDispatcher;
}
