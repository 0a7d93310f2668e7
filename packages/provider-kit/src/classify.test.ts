import { describe, expect, it } from "vitest";
import { classifyHttpStatus, classifyNetworkError, httpStatusError } from "./classify.js";

describe("classifyHttpStatus", () => {
  it("maps every status class to a code and a transient flag", () => {
    const at = (status: number) => {
      const c = classifyHttpStatus(status, { what: "GET x" });
      return `${c.code}${c.transient ? "+" : ""}`;
    };
    expect(
      Object.fromEntries(
        [200, 400, 401, 403, 404, 408, 409, 410, 412, 416, 418, 425, 429, 500, 501, 502, 503, 504, 507].map(
          (s) => [s, at(s)],
        ),
      ),
    ).toEqual({
      200: "EIO",
      400: "EIO",
      401: "EACCES",
      403: "EACCES",
      404: "ENOENT",
      408: "EIO+",
      409: "EIO",
      410: "ENOENT",
      412: "ESTALE",
      416: "EINVAL",
      418: "EIO",
      425: "EIO+",
      429: "EAGAIN+",
      500: "EIO+",
      501: "ENOTSUP",
      502: "EIO+",
      503: "EIO+",
      504: "EIO+",
      507: "EIO+",
    });
  });

  it("says when to retry a 429 and carries Retry-After on transient statuses only", () => {
    const c = classifyHttpStatus(429, { what: "GET /a", retryAfterMs: 30_000 });
    expect(c.reason).toBe("GET /a: HTTP 429 (rate limited; retry after 30 s)");
    expect(c.retryAfterMs).toBe(30_000);
    expect(classifyHttpStatus(404, { what: "x", retryAfterMs: 5 }).retryAfterMs).toBeUndefined();
    const e = httpStatusError(503, { what: "GET /b", retryAfterMs: 1000, path: "b", syscall: "open" });
    expect(e).toMatchObject({ code: "EIO", transient: true, retryAfterMs: 1000, path: "b", syscall: "open" });
    expect(e.message).toMatch(/^EIO: GET \/b: HTTP 503/);
  });
});

describe("classifyNetworkError", () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });
  it("treats resets, refusals and undici socket errors as transient EIO, timeouts as ETIMEDOUT", () => {
    // A body cut short of its Content-Length (undici's length mismatch) is a cut connection too.
    for (const code of [
      "ECONNRESET",
      "ECONNREFUSED",
      "EPIPE",
      "UND_ERR_SOCKET",
      "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
    ]) {
      expect(classifyNetworkError(withCode(code))).toMatchObject({ code: "EIO", transient: true });
    }
    for (const code of [
      "ETIMEDOUT",
      "UND_ERR_HEADERS_TIMEOUT",
      "UND_ERR_BODY_TIMEOUT",
      "UND_ERR_CONNECT_TIMEOUT",
    ]) {
      expect(classifyNetworkError(withCode(code))).toMatchObject({ code: "ETIMEDOUT", transient: true });
    }
  });

  it("looks through the cause chain (fetch wraps the socket error)", () => {
    const wrapped = new TypeError("fetch failed", { cause: withCode("ECONNRESET") });
    expect(classifyNetworkError(wrapped)).toMatchObject({ code: "EIO", transient: true });
    const timeout = new DOMException("timed out", "TimeoutError");
    expect(classifyNetworkError(timeout)).toMatchObject({ code: "ETIMEDOUT", transient: true });
  });

  it("does not retry an abort the caller asked for, and ignores what is not a network error", () => {
    expect(classifyNetworkError(new DOMException("aborted", "AbortError"))).toMatchObject({
      code: "ECANCELED",
      transient: false,
    });
    expect(classifyNetworkError(new Error("bad json"))).toBeUndefined();
    expect(classifyNetworkError("x")).toBeUndefined();
  });
});
