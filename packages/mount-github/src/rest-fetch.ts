import type { IncomingHttpHeaders } from "node:http";
import { gunzip, gunzipSync } from "node:zlib";
import { type NodeDispatcher, nodeDispatcher } from "@ws/provider-kit";
import { isRedirect, redirectTarget } from "./redirect.js";

/** What Octokit passes to its `fetch`. */
export interface RestFetchInit {
  readonly method?: string | undefined;
  readonly headers?: Record<string, string> | undefined;
  readonly body?: string | Uint8Array | null | undefined;
  readonly redirect?: "follow" | "manual" | "error" | undefined;
  readonly signal?: AbortSignal | null | undefined;
}

/**
 * The part of a WHATWG `Response` Octokit reads, with the whole body already in memory: `body` is
 * the bytes (a `Uint8Array`), not a stream, so nothing can cancel it once the promise resolved.
 */
export interface RestResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly url: string;
  /** Lower-case names; iterable as `[name, value]` pairs, as Octokit copies them. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Uint8Array;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A `fetch` for Octokit (`request: { fetch }`) and `close()` for its idle sockets. */
export interface RestFetch {
  (input: string | URL, init?: RestFetchInit): Promise<RestResponse>;
  close(): void;
}

export interface RestFetchOptions {
  /** Fail `ETIMEDOUT` when a request's socket is silent this long (connecting, headers, body). */
  readonly timeoutMs: number;
  /** Keep-alive sockets per origin. */
  readonly connections: number;
  /** A body longer than this (as sent, and once decoded) fails before more of it is kept. */
  readonly maxBodyBytes: number;
}

const MAX_REDIRECTS = 10;
const SYNC_GUNZIP_BYTES = 1024 * 1024;

/**
 * `fetch` over `node:http`/`node:https` keep-alive sockets (provider-kit's `nodeDispatcher`, one
 * per origin), for the few things Octokit asks of it: a method, headers, redirects followed as
 * WHATWG fetch follows them (the `authorization` header is dropped on the way to another origin),
 * `gzip` asked for and decoded, an abort signal, and the whole body read into one array (of the
 * announced `Content-Length` when there is one) before the promise resolves.
 *
 * Why not Node's global `fetch`: its first call loads and compiles undici (about 30 ms, most of
 * the lazy mount's time to its first read against a nearby server), every body arrives as a web
 * stream of small chunks that are concatenated again, and undici cancels the body of a `Response`
 * the collector frees before it is read (Octokit drops the `Response` when it hands over the body:
 * blobs came back empty now and then). Here a body is bytes, kept by whoever holds them.
 */
export function restFetch(options: RestFetchOptions): RestFetch {
  const dispatchers = new Map<string, NodeDispatcher>();
  const dispatcherFor = (url: URL): NodeDispatcher => {
    let d = dispatchers.get(url.origin);
    if (!d) {
      d = nodeDispatcher(new URL(url.origin), {
        connections: options.connections,
        timeoutMs: options.timeoutMs,
      });
      dispatchers.set(url.origin, d);
    }
    return d;
  };

  async function fetchOnce(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    signal: AbortSignal | undefined,
  ): Promise<RestResponse> {
    const where = `${url.origin}${url.pathname}`;
    const raw = await new Promise<{
      status: number;
      statusText: string;
      headers: IncomingHttpHeaders;
      body: Uint8Array;
    }>((resolve, reject) => {
      let status = 0;
      let statusText = "";
      let responseHeaders: IncomingHttpHeaders = {};
      let sized: Uint8Array | undefined;
      const chunks: Uint8Array[] = [];
      let length = 0;
      let settled = false;
      let abortController: { abort(reason: Error): void } | undefined;
      const onAbort = (): void => {
        const reason = Object.assign(new Error("the request was aborted"), { name: "AbortError" });
        abortController?.abort(reason);
        finish(reason);
      };
      const finish = (error: Error | undefined): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        if (error) {
          reject(error);
          return;
        }
        let bytes: Uint8Array;
        if (sized) bytes = length === sized.length ? sized : sized.subarray(0, length);
        else if (chunks.length === 1 && chunks[0]) bytes = chunks[0];
        else bytes = Buffer.concat(chunks, length);
        resolve({ status, statusText, headers: responseHeaders, body: bytes });
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      const tooLong = (): Error =>
        Object.assign(
          new Error(`the answer of ${url.origin}${url.pathname} is over ${options.maxBodyBytes} bytes`),
          {
            code: "EFBIG",
          },
        );
      dispatcherFor(url).dispatch(
        {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: method as "GET",
          headers,
          body: body ?? null,
        },
        {
          onRequestStart(controller) {
            abortController = controller;
          },
          onResponseStart(controller, statusCode, h, message) {
            status = statusCode;
            statusText = message ?? "";
            responseHeaders = h as IncomingHttpHeaders;
            const announced = Number(responseHeaders["content-length"] ?? Number.NaN);
            if (Number.isSafeInteger(announced) && announced >= 0) {
              if (announced > options.maxBodyBytes) {
                const error = tooLong();
                controller.abort(error);
                finish(error);
                return;
              }
              // Its own memory (not a slice of Node's shared pool): a blob may be kept for long.
              sized = Buffer.allocUnsafeSlow(announced);
            }
          },
          onResponseData(controller, chunk: Buffer) {
            if (settled) return;
            if (sized) {
              // More than announced cannot come through Node's parser; guard anyway.
              const n = Math.min(chunk.length, sized.length - length);
              sized.set(n === chunk.length ? chunk : chunk.subarray(0, n), length);
              length += n;
              return;
            }
            length += chunk.length;
            if (length > options.maxBodyBytes) {
              const error = tooLong();
              controller.abort(error);
              finish(error);
              return;
            }
            chunks.push(chunk);
          },
          onResponseEnd() {
            finish(undefined);
          },
          onResponseError(_controller, error: Error) {
            finish(error);
          },
        },
      );
    });
    let bytes = raw.body;
    const encoding = String(raw.headers["content-encoding"] ?? "identity").toLowerCase();
    if (encoding === "gzip" || encoding === "x-gzip") {
      const limits = { maxOutputLength: options.maxBodyBytes };
      // A small body (a tree of thousands of entries is ~130 KB) is inflated at once, a large one
      // on libuv's thread pool, so a large blob never holds up the event loop.
      const named = (error: Error & { code?: string }): Error =>
        error.code === "ERR_BUFFER_TOO_LARGE"
          ? Object.assign(
              new Error(`the answer of ${where} decodes to more than ${options.maxBodyBytes} bytes`),
              {
                code: "EFBIG",
              },
            )
          : Object.assign(new Error(`the gzip answer of ${where} is damaged: ${error.message}`), {
              code: error.code ?? "Z_DATA_ERROR",
            });
      try {
        bytes =
          bytes.length <= SYNC_GUNZIP_BYTES
            ? gunzipSync(bytes, limits)
            : await new Promise<Buffer>((resolve, reject) =>
                gunzip(bytes, limits, (error, out) => (error ? reject(error) : resolve(out))),
              );
      } catch (error) {
        throw named(error as Error & { code?: string });
      }
    } else if (encoding !== "identity") {
      throw Object.assign(
        new Error(`${url.origin} answered with content-encoding ${encoding}, which was not asked for`),
        {
          code: "EPROTO",
        },
      );
    }
    // A plain Uint8Array over the same memory: a Buffer's slice() is a view, a Uint8Array's a copy,
    // and whoever receives the body expects the latter.
    const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return response(url, raw.status, raw.statusText, raw.headers, plain, encoding !== "identity");
  }

  const restFetchImpl = async (input: string | URL, init: RestFetchInit = {}): Promise<RestResponse> => {
    let url = new URL(String(input));
    let method = (init.method ?? "GET").toUpperCase();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
    headers["accept-encoding"] ??= "gzip";
    let body = init.body ?? undefined;
    for (let hops = 0; ; hops++) {
      const answer = await fetchOnce(url, method, headers, body, init.signal ?? undefined);
      const location = answer.headers.get("location");
      if (!isRedirect(answer.status, location) || init.redirect === "manual") return answer;
      if (init.redirect === "error") throw new TypeError(`${url.origin} redirected to ${location}`);
      if (hops >= MAX_REDIRECTS)
        throw new TypeError(`more than ${MAX_REDIRECTS} redirects from ${String(input)}`);
      const next = redirectTarget(url, answer.status, location, method, headers);
      if (next.url.protocol !== "http:" && next.url.protocol !== "https:") {
        throw new TypeError(`${url.origin} redirected to a ${next.url.protocol} URL`);
      }
      method = next.method;
      if (next.asGet) {
        body = undefined;
        delete headers["content-type"];
        delete headers["content-length"];
      }
      url = next.url;
    }
  };
  return Object.assign(restFetchImpl, {
    close(): void {
      for (const d of dispatchers.values()) d.close();
      dispatchers.clear();
    },
  });
}

function response(
  url: URL,
  status: number,
  statusText: string,
  raw: IncomingHttpHeaders,
  body: Uint8Array,
  decoded: boolean,
): RestResponse {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    // The decoded body no longer has the length or encoding the server sent.
    if (decoded && (name === "content-encoding" || name === "content-length")) continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const text = (): string => Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  return {
    status,
    statusText,
    ok: status >= 200 && status < 300,
    url: url.href,
    headers,
    body,
    text: async () => text(),
    json: async () => JSON.parse(text()),
    arrayBuffer: async () => body.slice().buffer,
  };
}
