import { MountError, type MountErrorCode } from "@ws/core";

/** What a failure means: the POSIX code and whether the same request may succeed later. */
export interface Classification {
  readonly code: MountErrorCode;
  readonly transient: boolean;
  /** A short explanation for the message: `"HTTP 503 (service unavailable)"`. */
  readonly reason: string;
  readonly retryAfterMs?: number | undefined;
}

export interface ClassifyHttpOptions {
  /** What was requested, for the message: `"GET https://example.com/a.txt"`. */
  readonly what: string;
  /** The server's Retry-After, already parsed (`parseRetryAfter`). */
  readonly retryAfterMs?: number | undefined;
}

const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * An HTTP status as `{ code, transient }`: 404/410 `ENOENT`; 401/403 `EACCES`; 412 `ESTALE`;
 * 416 `EINVAL`; 501 `ENOTSUP`; 429 `EAGAIN` (transient); 408/425/500/502/503/504 `EIO` (transient);
 * other 4xx `EIO` (persistent); other 5xx `EIO` (transient).
 */
export function classifyHttpStatus(status: number, options: ClassifyHttpOptions): Classification {
  const retryAfterMs = options.retryAfterMs;
  const at = (code: MountErrorCode, transient: boolean, text: string): Classification => ({
    code,
    transient,
    reason: `${options.what}: HTTP ${status} (${text})`,
    ...(retryAfterMs !== undefined && transient ? { retryAfterMs } : {}),
  });
  if (status === 404 || status === 410) return at("ENOENT", false, status === 404 ? "not found" : "gone");
  if (status === 401 || status === 403)
    return at("EACCES", false, status === 401 ? "unauthorized" : "forbidden");
  if (status === 412) return at("ESTALE", false, "precondition failed");
  if (status === 416) return at("EINVAL", false, "range not satisfiable");
  if (status === 501) return at("ENOTSUP", false, "not implemented");
  if (status === 429) {
    const when =
      retryAfterMs === undefined ? "retry later" : `retry after ${Math.ceil(retryAfterMs / 1000)} s`;
    return at("EAGAIN", true, `rate limited; ${when}`);
  }
  if (TRANSIENT_STATUS.has(status)) return at("EIO", true, "server error, worth retrying");
  if (status >= 400 && status < 500) return at("EIO", false, "request refused");
  if (status >= 500) return at("EIO", true, "server error");
  return at("EIO", false, "unexpected status");
}

/** A classification as a MountError, with the message naming what failed. */
export function httpStatusError(
  status: number,
  options: ClassifyHttpOptions & {
    readonly path?: string;
    readonly syscall?: string;
    readonly cause?: unknown;
  },
): MountError {
  const c = classifyHttpStatus(status, options);
  return new MountError(c.code, c.reason, {
    path: options.path,
    syscall: options.syscall,
    cause: options.cause,
    transient: c.transient,
    retryAfterMs: c.retryAfterMs,
  });
}

const NETWORK_TRANSIENT = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT",
  // The connection ended before the body reached its Content-Length: a truncated body.
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
]);
const TIMEOUTS = new Set([
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** The first error code found along the cause chain (fetch wraps the socket error in a TypeError). */
function codesOf(error: unknown): { code: string | undefined; name: string | undefined } {
  let e: unknown = error;
  for (let depth = 0; depth < 8 && typeof e === "object" && e !== null; depth++) {
    const { code, name, cause } = e as { code?: unknown; name?: unknown; cause?: unknown };
    if (
      typeof code === "string" &&
      (NETWORK_TRANSIENT.has(code) || TIMEOUTS.has(code) || code.startsWith("UND_ERR"))
    ) {
      return { code, name: typeof name === "string" ? name : undefined };
    }
    if (name === "TimeoutError") return { code: "ETIMEDOUT", name };
    if (name === "AbortError" && !(typeof cause === "object" && cause !== null))
      return { code: "ABORT", name };
    e = cause;
  }
  return { code: undefined, name: undefined };
}

/**
 * A network failure as `{ code, transient }`: resets, refusals, broken pipes, undici socket
 * errors and bodies cut short of their Content-Length are `EIO` (transient); timeouts are `ETIMEDOUT` (transient); an abort asked for by the
 * caller is `ECANCELED` (not retried). `undefined` when `error` is not a network failure.
 */
export function classifyNetworkError(error: unknown): Classification | undefined {
  const { code } = codesOf(error);
  if (code === undefined) return undefined;
  if (TIMEOUTS.has(code)) return { code: "ETIMEDOUT", transient: true, reason: `timed out (${code})` };
  if (code === "ABORT" || code === "UND_ERR_ABORTED") {
    return { code: "ECANCELED", transient: false, reason: "aborted by the caller" };
  }
  if (NETWORK_TRANSIENT.has(code))
    return { code: "EIO", transient: true, reason: `network failure (${code})` };
  return { code: "EIO", transient: false, reason: `HTTP client failure (${code})` };
}
