import { MountError } from "@ws/core";
import { httpPool, httpRequest, httpStatusError } from "@ws/provider-kit";

export interface HttpGetResult {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Uint8Array;
}

const MAX_REDIRECTS = 5;

type Pool = ReturnType<typeof httpPool>;

/**
 * The kit's pool for the origin, with a no-op `error` listener on every response body. The kit's
 * `httpRequest` destroys the body when it exceeds `maxBytes`; undici then emits an AbortError that,
 * with no listener, would crash the process as an uncaught exception. Errors while reading still
 * reject the read (async iteration reports them on its own). Remove once the kit does this itself.
 */
function guardedPool(url: URL): Pool {
  const pool = httpPool(url);
  const request = (async (options: Parameters<Pool["request"]>[0]) => {
    const response = await pool.request(options);
    response.body.on("error", () => {});
    return response;
  }) as unknown as Pool["request"];
  return new Proxy(pool, { get: (target, key) => (key === "request" ? request : Reflect.get(target, key)) });
}

/** One header value (the first, when repeated). */
export function header(headers: HttpGetResult["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A non-200 answer as a MountError (404 ENOENT, 401/403 EACCES, ...), by the kit's classification. */
export function statusError(status: number, what: string, root: string | undefined): MountError {
  return httpStatusError(status, { what, path: root ?? what, syscall: "open" });
}

/**
 * A GET through the kit's pooled `httpRequest` (body read once, `maxBytes` enforced while it
 * arrives), following redirects itself because the kit does not: registries send blob reads to
 * storage or a CDN. Credentials never follow a redirect to another origin.
 */
export async function httpGet(
  url: string,
  options: { headers?: Record<string, string>; maxBytes: number; timeoutMs: number },
): Promise<HttpGetResult> {
  let target = new URL(url);
  let headers = { ...(options.headers ?? {}) };
  for (let hop = 0; ; hop++) {
    const response = await httpRequest(target, {
      headers,
      maxBytes: options.maxBytes,
      timeoutMs: options.timeoutMs,
      pool: guardedPool(target),
    });
    const location = header(response.headers, "location");
    if (![301, 302, 303, 307, 308].includes(response.status) || location === undefined) return response;
    if (hop >= MAX_REDIRECTS)
      throw new MountError("EIO", `${target.origin}${target.pathname}: more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, target);
    if (next.protocol !== "https:" && next.protocol !== "http:")
      throw new MountError("EIO", `${target.origin}${target.pathname} redirects to a ${next.protocol} URL`);
    if (next.origin !== target.origin) {
      const { authorization: _dropped, ...rest } = headers;
      headers = rest;
    }
    target = next;
  }
}
