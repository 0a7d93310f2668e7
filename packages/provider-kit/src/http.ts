import { createRequire } from "node:module";
import { MountError } from "@ws/core";
import type { Pool } from "undici";
import { classifyNetworkError } from "./classify.js";

export interface HttpPoolOptions {
  /** Sockets per origin. Default 32. */
  readonly connections?: number | undefined;
  /** How long an idle socket stays open. Default 10 000 ms. */
  readonly keepAliveTimeoutMs?: number | undefined;
  /** Time to wait for the response headers. Default 60 000 ms. */
  readonly headersTimeoutMs?: number | undefined;
  /** Time allowed between two body chunks. Default 60 000 ms. */
  readonly bodyTimeoutMs?: number | undefined;
  /** Time allowed to open a connection. Default 10 000 ms. */
  readonly connectTimeoutMs?: number | undefined;
}

const pools = new Map<string, Pool>();

/**
 * undici, loaded on the first pool: importing it costs about 20 MiB of RSS (its whole module
 * graph), which a process that never opens a pool (a mount whose reads go through `node:http`)
 * should not pay. undici is CommonJS, so a synchronous `require` keeps `httpPool` synchronous.
 */
let undici: typeof import("undici") | undefined;
function loadUndici(): typeof import("undici") {
  undici ??= createRequire(import.meta.url)("undici") as typeof import("undici");
  return undici;
}

/**
 * The shared keep-alive connection pool for one origin (`https://host:port`), created on first
 * use and reused by every mount talking to that origin with the same options.
 */
export function httpPool(origin: string | URL, options: HttpPoolOptions = {}): Pool {
  const base = new URL(typeof origin === "string" ? origin : origin.href).origin;
  const key = `${base} ${options.connections ?? ""} ${options.keepAliveTimeoutMs ?? ""} ${options.headersTimeoutMs ?? ""} ${options.bodyTimeoutMs ?? ""} ${options.connectTimeoutMs ?? ""}`;
  let pool = pools.get(key);
  if (pool === undefined || pool.closed || pool.destroyed) {
    pool = new (loadUndici().Pool)(base, {
      connections: options.connections ?? 32,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000,
      headersTimeout: options.headersTimeoutMs ?? 60_000,
      bodyTimeout: options.bodyTimeoutMs ?? 60_000,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
    });
    pools.set(key, pool);
  }
  return pool;
}

/** Closes every pool `httpPool` created (for tests and process shutdown). */
export async function closeHttpPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.close().catch(() => pool.destroy())));
}

export interface HttpRequestOptions {
  readonly method?: string | undefined;
  readonly headers?: Record<string, string> | undefined;
  readonly body?: Uint8Array | string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** The whole request, headers and body, must finish within this. */
  readonly timeoutMs?: number | undefined;
  /** Refuse a body larger than this (checked while it arrives, not after). */
  readonly maxBytes?: number | undefined;
  /** The pool to use; default `httpPool(url)`. */
  readonly pool?: Pool | undefined;
}

export interface HttpResponse {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The whole body, one exact fresh Uint8Array. */
  readonly body: Uint8Array;
}

/** Strips the query, which may carry signatures or tokens, from a URL for messages. */
function describe(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/**
 * One request through the origin's pool; the body is read exactly once into one buffer, with
 * `maxBytes` enforced as it arrives. Any status resolves (the caller classifies it, see
 * `classifyHttpStatus`); a network failure or timeout rejects with a classified MountError.
 */
export async function httpRequest(
  url: string | URL,
  options: HttpRequestOptions = {},
): Promise<HttpResponse> {
  const target = new URL(typeof url === "string" ? url : url.href);
  const method = options.method ?? "GET";
  const what = `${method} ${describe(target)}`;
  const pool = options.pool ?? httpPool(target);
  const signals = [
    options.signal,
    options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
  ];
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  const signal =
    present.length === 0 ? undefined : present.length === 1 ? present[0] : AbortSignal.any(present);
  try {
    const response = await pool.request({
      path: `${target.pathname}${target.search}`,
      method: method as "GET",
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.body !== undefined ? { body: options.body } : {}),
      ...(signal ? { signal } : {}),
    });
    const stream = response.body;
    // Destroying the stream below makes it emit an error (UND_ERR_ABORTED): without a listener
    // that error would be uncaught and end the process.
    stream.on("error", () => {});
    const length = Number(response.headers["content-length"]);
    const known = Number.isSafeInteger(length) && length >= 0 && method !== "HEAD" ? length : undefined;
    const max = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const tooBig = (seen: number): MountError => {
      stream.destroy();
      return new MountError(
        "EIO",
        `${what}: the body is larger than maxBytes (${max}); got at least ${seen} bytes`,
        {
          syscall: "read",
        },
      );
    };
    if (known !== undefined && known > max) throw tooBig(known);
    // With a Content-Length the body lands straight in one exact buffer; without, in a chunk list.
    let body = known === undefined ? undefined : new Uint8Array(known);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of stream as AsyncIterable<Uint8Array>) {
      if (total + chunk.length > max) throw tooBig(total + chunk.length);
      if (body !== undefined) {
        if (total + chunk.length > body.length) {
          stream.destroy();
          throw new MountError("EIO", `${what}: the server sent more than the ${known} bytes it announced`, {
            syscall: "read",
          });
        }
        body.set(chunk, total);
      } else {
        chunks.push(chunk);
      }
      total += chunk.length;
    }
    if (known !== undefined && total !== known) {
      throw new MountError("EIO", `${what}: the body ended after ${total} of ${known} bytes`, {
        syscall: "read",
        transient: true,
      });
    }
    if (body === undefined) {
      body = new Uint8Array(total);
      let at = 0;
      for (const chunk of chunks) {
        body.set(chunk, at);
        at += chunk.length;
      }
    }
    return { status: response.statusCode, headers: response.headers, body };
  } catch (error) {
    if (MountError.isInstance(error)) throw error;
    const timedOut = options.timeoutMs !== undefined && signal?.aborted === true && !options.signal?.aborted;
    const c = timedOut
      ? { code: "ETIMEDOUT" as const, transient: true, reason: `timed out after ${options.timeoutMs} ms` }
      : classifyNetworkError(error);
    if (c) throw new MountError(c.code, `${what}: ${c.reason}`, { cause: error, transient: c.transient });
    const reason = error instanceof Error ? error.message : String(error);
    throw new MountError("EIO", `${what} failed: ${reason}`, { cause: error });
  }
}
