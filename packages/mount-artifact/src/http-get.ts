import { MountError } from "@ws/core";

export interface HttpGetResult {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

/** 404/410 ENOENT, 401/403 EACCES, others EIO (network failures too). */
export function httpStatusError(status: number, what: string, root: string | undefined): MountError {
  const code =
    status === 404 || status === 410 ? "ENOENT" : status === 401 || status === 403 ? "EACCES" : "EIO";
  return new MountError(code, `${what} answered HTTP ${status}`, { path: root, root });
}

/**
 * One GET, the body read once with `maxBytes` enforced while it arrives (a server cannot make us
 * buffer more than we allowed, whatever its Content-Length says).
 */
export async function httpGet(
  url: string,
  options: {
    headers?: Record<string, string>;
    maxBytes: number;
    timeoutMs: number;
    what: string;
    root: string | undefined;
  },
): Promise<HttpGetResult> {
  const { what, root } = options;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: options.headers ?? {},
      redirect: "follow",
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    const timeout = (error as Error).name === "TimeoutError";
    throw new MountError(
      timeout ? "ETIMEDOUT" : "EIO",
      `${what}: ${timeout ? `no answer within ${options.timeoutMs} ms` : `request failed: ${(error as Error).message}`}`,
      {
        path: root,
        root,
        cause: error,
      },
    );
  }
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await response.body?.cancel();
    throw new MountError(
      "EDQUOT",
      `${what} is ${declared} bytes, above the limit of ${options.maxBytes} (maxArchiveBytes)`,
      { path: root, root },
    );
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > options.maxBytes) {
          await reader.cancel();
          throw new MountError(
            "EDQUOT",
            `${what} sent more than ${options.maxBytes} bytes (maxArchiveBytes)`,
            { path: root, root },
          );
        }
        parts.push(value);
      }
    } catch (error) {
      if (MountError.isInstance(error)) throw error;
      throw new MountError("EIO", `${what}: the response broke off: ${(error as Error).message}`, {
        path: root,
        root,
        cause: error,
      });
    }
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.length;
  }
  return { status: response.status, headers: response.headers, body };
}
