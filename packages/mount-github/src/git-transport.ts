import { MountError } from "@ws/core";
import { classifyNetworkError } from "@ws/provider-kit";

/** One request of the git client. */
export interface HttpRequest {
  readonly url: string;
  readonly method?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly body?: Iterable<Uint8Array> | AsyncIterable<Uint8Array> | undefined;
}

/** Its response: the body arrives as chunks, counted and timed by the transport. */
export interface HttpResponse {
  readonly url: string;
  readonly method: string;
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: AsyncIterableIterator<Uint8Array>;
}

export interface HttpClient {
  request(request: HttpRequest): Promise<HttpResponse>;
}

export interface GitTransportOptions {
  /** Headers sent with every request (the token's Authorization header, up front). */
  readonly headers: Readonly<Record<string, string>>;
  /** Abort once the responses of one operation carried more than this many bytes (`EDQUOT`). */
  readonly maxBytes: number;
  /** Abort when no byte arrived for this long (`ETIMEDOUT`, transient). */
  readonly idleTimeoutMs: number;
  /** The repository URL as it may be shown in messages (without credentials). */
  readonly displayUrl: string;
}

/**
 * The git client's HTTP transport, over Node's fetch, for one operation (a clone or a ref listing).
 * It sends the token's header with the first request (no 401 round trip), counts the bytes of
 * every response while they arrive and aborts above `maxBytes` with `EDQUOT`, and aborts a
 * response that stalls. The first failure is also kept in `failure`, and `run()` races the
 * operation against it: the caller gets the coded error, never a hang.
 */
export class GitTransport {
  readonly #options: GitTransportOptions;
  readonly #controller = new AbortController();
  #received = 0;
  #fail: ((error: MountError) => void) | undefined;
  readonly #failed: Promise<never>;
  failure: MountError | undefined;

  constructor(options: GitTransportOptions) {
    this.#options = options;
    this.#failed = new Promise<never>((_, reject) => {
      this.#fail = reject;
    });
    this.#failed.catch(() => {});
  }

  /** Bytes received so far (headers excluded). */
  get received(): number {
    return this.#received;
  }

  /** Runs `operation`, rejecting with the transport's own error as soon as one occurs. */
  async run<T>(operation: Promise<T>): Promise<T> {
    operation.catch(() => {});
    try {
      return await Promise.race([operation, this.#failed]);
    } catch (error) {
      throw this.failure ?? error;
    } finally {
      this.#controller.abort();
    }
  }

  #abort(error: MountError): MountError {
    if (!this.failure) {
      this.failure = error;
      this.#fail?.(error);
      this.#controller.abort(error);
    }
    return this.failure;
  }

  readonly client: HttpClient = {
    request: async (request: HttpRequest): Promise<HttpResponse> => {
      if (this.failure) throw this.failure;
      let body: Uint8Array | undefined;
      if (request.body) {
        const parts: Uint8Array[] = [];
        for await (const part of request.body) parts.push(part);
        body = concat(parts);
      }
      const headers: Record<string, string> = { ...request.headers, ...this.#options.headers };
      let response: Response;
      const timer = setTimeout(
        () =>
          this.#abort(
            new MountError(
              "ETIMEDOUT",
              `git server at ${this.#options.displayUrl} sent no response headers within ${this.#options.idleTimeoutMs} ms`,
              { transient: true },
            ),
          ),
        this.#options.idleTimeoutMs,
      );
      try {
        response = await fetch(request.url, {
          method: request.method ?? "GET",
          headers,
          ...(body ? { body } : {}),
          signal: this.#controller.signal,
          redirect: "follow",
        });
      } catch (error) {
        throw this.failure ?? this.#abort(networkError(this.#options.displayUrl, error));
      } finally {
        clearTimeout(timer);
      }
      const responseHeaders: Record<string, string> = {};
      response.headers.forEach((value, key) => {
        responseHeaders[key] = value;
      });
      return {
        url: response.url,
        method: request.method ?? "GET",
        statusCode: response.status,
        statusMessage: response.statusText,
        headers: responseHeaders,
        body: this.#stream(response),
      };
    },
  };

  async *#stream(response: Response): AsyncIterableIterator<Uint8Array> {
    if (!response.body) return;
    const reader = response.body.getReader();
    const { maxBytes, idleTimeoutMs, displayUrl } = this.#options;
    try {
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const idle = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            reject(
              this.#abort(
                new MountError(
                  "ETIMEDOUT",
                  `git server at ${displayUrl} stopped sending for ${idleTimeoutMs} ms after ${this.#received} bytes`,
                  { transient: true },
                ),
              ),
            );
          }, idleTimeoutMs);
        });
        idle.catch(() => {});
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await Promise.race([reader.read(), idle]);
        } catch (error) {
          throw this.failure ?? this.#abort(networkError(displayUrl, error, this.#received));
        } finally {
          clearTimeout(timer);
        }
        if (chunk.done) return;
        this.#received += chunk.value.length;
        if (this.#received > maxBytes) {
          throw this.#abort(
            new MountError(
              "EDQUOT",
              `the pack from ${displayUrl} exceeds maxPackBytes (${maxBytes} bytes); aborted after ${this.#received} bytes, nothing was materialised. Raise maxPackBytes or mount a smaller repository`,
            ),
          );
        }
        yield chunk.value;
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }
}

function networkError(displayUrl: string, error: unknown, received?: number): MountError {
  if (MountError.isInstance(error)) return error;
  const after = received === undefined ? "" : ` after ${received} bytes`;
  const c = classifyNetworkError(error);
  const reason = c?.reason ?? (error instanceof Error ? error.message : String(error));
  // Anything else that breaks a response stream (a truncated chunk, a closed socket) is worth a retry too.
  return new MountError(
    c?.code ?? "EIO",
    `the connection to the git server at ${displayUrl} failed${after} (${reason})`,
    { cause: error, transient: c?.transient ?? true },
  );
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0]) return parts[0];
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
