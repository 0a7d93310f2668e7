import { type MountDiagnostic, MountError } from "@ws/core";
import {
  type HttpResponse,
  httpPool,
  httpStatusError,
  nodeDispatcher,
  parseRetryAfter,
} from "@ws/provider-kit";
import { type ReadIntoOptions, readInto } from "./read-into.js";
import { SocketReadUnsupported, socketRead } from "./socket-read.js";

/** A response with the URL it finally came from (after redirects). */
export type HttpAnswer = HttpResponse & { readonly url: URL };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
/** 423 answers waited out (10 ms, 20 ms, ... about 2 s in all) before EBUSY. */
const LOCK_WAITS = 20;
/** The largest listing document read (a manifest page, an index page, a PROPFIND answer). */
export const MAX_LISTING_BYTES: number = 256 * 1024 * 1024;

export function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A `Content-Range: bytes START-END/TOTAL` header, or undefined. */
export function contentRange(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): { start: number; end: number; total: number } | undefined {
  const raw = headers["content-range"];
  const match = /^\s*bytes\s+(\d+)-(\d+)\/(\d+)\s*$/i.exec((Array.isArray(raw) ? raw[0] : raw) ?? "");
  if (!match) return undefined;
  return { start: Number(match[1]), end: Number(match[2]), total: Number(match[3]) };
}

export function describe(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

export const PROPFIND_BODY: string =
  '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>' +
  "<D:resourcetype/><D:getcontentlength/><D:getlastmodified/><D:getetag/></D:prop></D:propfind>";

/** The request side of one mount: credentials, redirect policy, 423 waits, status errors. */
export interface HttpSession {
  send(
    method: string,
    url: URL,
    init?: {
      headers?: Record<string, string>;
      body?: Uint8Array | string;
      maxBytes?: number;
      place?: ReadIntoOptions["place"];
      window?: ReadIntoOptions["window"];
      /**
       * `"node"`: through Node's own HTTP client (the listing, ranges): no undici, whose
       * WebAssembly parser costs ~29 MiB to optimize once per process (see `nodeDispatcher`).
       * Default `"pool"`: the undici pool (whole files, writes).
       */
      via?: "pool" | "node";
    },
  ): Promise<HttpAnswer>;
  getLarge(
    url: URL,
    init: {
      headers: Record<string, string>;
      maxBytes: number;
      place: NonNullable<ReadIntoOptions["place"]>;
      /** Passed to the pool's request when the fast path cannot be used (see `ReadIntoOptions`). */
      window?: ReadIntoOptions["window"];
      /** The transport when the fast path cannot be used (see `send`). */
      via?: "pool" | "node";
    },
  ): Promise<HttpAnswer>;
  statusError(response: HttpAnswer, method: string): MountError;
  checkOk(response: HttpAnswer, method: string): void;
  report(key: string, reason: string, where: URL): void;
  formatError(url: URL, error: unknown): MountError;
  text(bytes: Uint8Array): string;
  /** Closes the idle sockets of the session's own `node:http` agent. */
  close(): void;
}

export interface HttpSessionConfig {
  readonly base: URL;
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** Origins redirects may lead to (the base URL's included). */
  readonly redirectOrigins: ReadonlySet<string>;
  /** Credentials and extra headers: sent only to the base URL's origin. */
  readonly baseHeaders: Readonly<Record<string, string>>;
  readonly onDiagnostic?: ((diagnostic: MountDiagnostic) => void) | undefined;
}

export function createHttpSession(config: HttpSessionConfig): HttpSession {
  const { base, timeoutMs, redirectOrigins, baseHeaders } = config;
  // The undici pool is opened on its first request, not here: a mount that only lists and reads
  // ranges never loads undici (see `nodeDispatcher`).
  const pool = (): ReturnType<typeof httpPool> =>
    httpPool(base.origin, {
      connections: config.concurrency,
      headersTimeoutMs: timeoutMs,
      bodyTimeoutMs: timeoutMs,
    });
  const nodePool = nodeDispatcher(base, { connections: config.concurrency });

  const headersFor = (url: URL, extra: Record<string, string> = {}): Record<string, string> =>
    // Credentials and extra headers only ever go to the base URL's origin.
    url.origin === base.origin ? { ...baseHeaders, ...extra } : { ...extra };

  /** One request, following redirects (GET, HEAD, PROPFIND only) within the allowed origins. */
  async function send(
    method: string,
    url: URL,
    init: {
      headers?: Record<string, string>;
      body?: Uint8Array | string;
      maxBytes?: number;
      place?: ReadIntoOptions["place"];
      window?: ReadIntoOptions["window"];
      via?: "pool" | "node";
    } = {},
  ): Promise<HttpAnswer> {
    let current = url;
    let locked = 0;
    for (let hop = 0; ; hop++) {
      const poolOf =
        current.origin !== base.origin ? httpPool(current.origin) : init.via === "node" ? nodePool : pool();
      // Every request through readInto: bodies land straight in their final buffer (see there
      // why not the kit's httpRequest).
      const response = await readInto(poolOf, current, {
        method,
        headers: headersFor(current, init.headers),
        body: init.body,
        timeoutMs,
        maxBytes: init.maxBytes,
        place: init.place,
        window: init.window,
      });
      if (response.status === 423 && locked < LOCK_WAITS) {
        // 423 Locked: WebDAV servers (rclone) lock a resource while another request on it runs.
        // That is a wait for a lock held a few milliseconds, not a failure to retry: wait here.
        locked++;
        hop--;
        await new Promise((resolve) => setTimeout(resolve, 10 * locked));
        continue;
      }
      if (response.status === 423) {
        throw new MountError(
          "EBUSY",
          `${method} ${describe(current)}: the resource stays locked (HTTP 423)`,
          {
            transient: true,
          },
        );
      }
      if (!REDIRECTS.has(response.status) || method === "PUT" || method === "DELETE" || method === "MKCOL") {
        return { ...response, url: current };
      }
      const location = header(response, "location");
      if (location === undefined) return { ...response, url: current };
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new MountError(
          "EIO",
          `${method} ${describe(current)}: the server redirected to an invalid URL`,
        );
      }
      if (!redirectOrigins.has(next.origin) || (next.protocol !== "https:" && next.protocol !== "http:")) {
        throw new MountError(
          "EIO",
          `${method} ${describe(current)}: refused a redirect to another origin (${next.origin}); allow it with redirectOrigins`,
        );
      }
      if (next.pathname === `${current.pathname}/` && !current.pathname.endsWith("/")) {
        // "dir" → "dir/": the path is a folder.
        throw new MountError(
          "EISDIR",
          `${describe(current)} is a folder (the server redirects it to ${next.pathname})`,
        );
      }
      if (hop >= MAX_REDIRECTS) {
        throw new MountError("EIO", `${method} ${describe(url)}: more than ${MAX_REDIRECTS} redirects`);
      }
      current = next;
    }
  }

  function statusError(response: HttpAnswer, method: string): MountError {
    const retryAfterMs = parseRetryAfter(header(response, "retry-after"));
    return httpStatusError(response.status, {
      what: `${method} ${describe(response.url)}`,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }

  function checkOk(response: HttpAnswer, method: string): void {
    if (response.status < 200 || response.status > 299) throw statusError(response, method);
  }

  function report(key: string, reason: string, where: URL): void {
    config.onDiagnostic?.({
      code: "invalid-path",
      key: key.slice(0, 300),
      message: `${describe(where)}: skipped ${JSON.stringify(key.slice(0, 300))}: ${reason}`,
    });
  }

  const decoder = new TextDecoder();
  const text = (bytes: Uint8Array): string => decoder.decode(bytes);

  function formatError(url: URL, error: unknown): MountError {
    return new MountError("EIO", `listing ${describe(url)}: ${(error as Error).message}`, { cause: error });
  }

  /**
   * A GET of a large body: first through `socketRead` (the body is written straight into its
   * buffer: a third of the CPU of the pool path here, on http and https); anything that path does
   * not handle (a redirect, an error status, chunked framing) goes through the pool.
   */
  async function getLarge(
    url: URL,
    init: {
      headers: Record<string, string>;
      maxBytes: number;
      place: NonNullable<ReadIntoOptions["place"]>;
      window?: ReadIntoOptions["window"];
      via?: "pool" | "node";
    },
  ): Promise<HttpAnswer> {
    if ((url.protocol === "http:" || url.protocol === "https:") && url.origin === base.origin) {
      try {
        const response = await socketRead(url, headersFor(url, init.headers), {
          timeoutMs,
          maxBytes: init.maxBytes,
          place: init.place,
        });
        return { ...response, url };
      } catch (error) {
        if (!(error instanceof SocketReadUnsupported)) throw error;
      }
    }
    return send("GET", url, init);
  }

  const close = (): void => nodePool.close();

  return { send, getLarge, statusError, checkOk, report, formatError, text, close };
}
