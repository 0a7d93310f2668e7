import { type ClientRequest, request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { MountError } from "@ws/core";
import { classifyNetworkError, concatBytes } from "@ws/provider-kit";
import { isRedirect, redirectTarget } from "./redirect.js";
import { type BodyReceiver, type GitTlsOptions, socketExchange } from "./socket-exchange.js";

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
  /**
   * The same request with its body read straight into `receiver` (see `socketExchange`):
   * `true` once the body ended, `false` when this path does not take the answer (a redirect, a
   * 401, an error status...), before any byte reached the receiver: then use `request`.
   */
  receive?(request: HttpRequest, receiver: BodyReceiver): Promise<boolean>;
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
  /** For https: a private CA, or (tests only) no certificate check. */
  readonly tls?: GitTlsOptions | undefined;
}

/**
 * The git client's HTTP transport, over `node:http`, for one operation (a clone or a ref listing).
 * Not over `fetch`: downloading a 1.7 MiB pack through Node's fetch (undici and web streams) cost
 * 25 MiB of peak memory, through `node:http` 13-16 MiB (measured on this project's machine).
 * It sends the token's header with the first request (no 401 round trip), counts the bytes of
 * every response while they arrive and aborts above `maxBytes` with `EDQUOT`, and aborts a
 * response that stalls. The first failure is also kept in `failure`, and `run()` races the
 * operation against it: the caller gets the coded error, never a hang.
 */
export class GitTransport {
  readonly #options: GitTransportOptions;
  /** Requests not yet closed: destroyed when the operation ends or fails. */
  readonly #active = new Set<ClientRequest | { destroy(): void }>();
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
      this.#destroyAll();
    }
  }

  #abort(error: MountError): MountError {
    if (!this.failure) {
      this.failure = error;
      this.#fail?.(error);
      this.#destroyAll();
    }
    return this.failure;
  }

  #destroyAll(): void {
    for (const req of this.#active) req.destroy();
    this.#active.clear();
  }

  readonly client: HttpClient = {
    receive: (request, receiver) => this.#receive(request, receiver),
    request: async (request: HttpRequest): Promise<HttpResponse> => {
      if (this.failure) throw this.failure;
      let body: Uint8Array | undefined;
      if (request.body) {
        const parts: Uint8Array[] = [];
        for await (const part of request.body) parts.push(part);
        body = concatBytes(parts);
      }
      const headers: Record<string, string> = { ...request.headers, ...this.#options.headers };
      let url = request.url;
      let method = request.method ?? "GET";
      let payload = body;
      // Redirects are followed as fetch would (GitHub redirects renamed repositories), at most 5.
      for (let hop = 0; ; hop++) {
        const response = await this.#send(url, method, headers, payload);
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (isRedirect(status, location) && hop < 5) {
          response.resume();
          const next = redirectTarget(new URL(url), status, location, method, headers);
          url = next.url.toString();
          method = next.method;
          if (next.asGet) payload = undefined;
          continue;
        }
        const responseHeaders: Record<string, string> = {};
        for (const [key, value] of Object.entries(response.headers)) {
          if (value !== undefined) responseHeaders[key] = Array.isArray(value) ? value.join(", ") : value;
        }
        return {
          url,
          method,
          statusCode: status,
          statusMessage: response.statusMessage ?? "",
          headers: responseHeaders,
          body: this.#stream(response),
        };
      }
    },
  };

  #inPlace = 0;
  /** Responses whose body the socket read in place (the others went through `node:http`). */
  get inPlace(): number {
    return this.#inPlace;
  }

  readonly #receive = async (request: HttpRequest, receiver: BodyReceiver): Promise<boolean> => {
    if (this.failure) throw this.failure;
    const { maxBytes, idleTimeoutMs, displayUrl, tls } = this.#options;
    let target: URL;
    try {
      target = new URL(request.url);
    } catch (error) {
      throw this.#abort(networkError(displayUrl, error));
    }
    if (target.protocol !== "http:" && target.protocol !== "https:") return false;
    let body: Uint8Array | undefined;
    if (request.body) {
      const parts: Uint8Array[] = [];
      for await (const part of request.body) parts.push(part);
      body = concatBytes(parts);
    }
    let socket: { destroy(): void } | undefined;
    try {
      const taken = await socketExchange(
        {
          url: target,
          method: request.method ?? "GET",
          headers: { ...request.headers, ...this.#options.headers },
          body,
          tls,
          idleTimeoutMs,
          displayUrl,
          counted: (count) => {
            this.#received += count;
            if (this.#received > maxBytes) throw this.#quota();
          },
          opened: (s) => {
            socket = s;
            this.#active.add(s);
          },
        },
        receiver,
      );
      if (taken) this.#inPlace++;
      return taken;
    } catch (error) {
      throw this.failure ?? this.#abort(networkError(displayUrl, error, this.#received));
    } finally {
      if (socket) this.#active.delete(socket);
    }
  };

  #quota(): MountError {
    const { maxBytes, displayUrl } = this.#options;
    return new MountError(
      "EDQUOT",
      `the pack from ${displayUrl} exceeds maxPackBytes (${maxBytes} bytes); aborted after ${this.#received} bytes, nothing was materialised. Raise maxPackBytes or mount a smaller repository`,
    );
  }

  /** One request; resolves at the response headers, which must come within the idle timeout. */
  #send(
    url: string,
    method: string,
    headers: Record<string, string>,
    body: Uint8Array | undefined,
  ): Promise<IncomingMessage> {
    const { idleTimeoutMs, displayUrl } = this.#options;
    return new Promise<IncomingMessage>((resolve, reject) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch (error) {
        reject(this.#abort(networkError(displayUrl, error)));
        return;
      }
      const send = target.protocol === "https:" ? httpsRequest : httpRequest;
      const tls = this.#options.tls;
      const timer = setTimeout(() => {
        req.destroy();
        reject(
          this.#abort(
            new MountError(
              "ETIMEDOUT",
              `git server at ${displayUrl} sent no response headers within ${idleTimeoutMs} ms`,
              { transient: true },
            ),
          ),
        );
      }, idleTimeoutMs);
      const req = send(
        target,
        {
          method,
          headers: body ? { ...headers, "content-length": String(body.length) } : headers,
          ...(tls?.ca === undefined ? {} : { ca: tls.ca as string | Buffer | (string | Buffer)[] }),
          ...(tls?.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
        },
        (response) => {
          clearTimeout(timer);
          settled = true;
          // Failures of the body reach its reader (#stream); the end of the operation aborts
          // whatever is left, which must not surface as an unhandled 'error'.
          response.on("error", () => {});
          resolve(response);
        },
      );
      let settled = false;
      this.#active.add(req);
      req.on("close", () => this.#active.delete(req));
      req.on("error", (error) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        reject(this.failure ?? this.#abort(networkError(displayUrl, error)));
      });
      req.end(body);
    });
  }

  async *#stream(response: IncomingMessage): AsyncIterableIterator<Uint8Array> {
    const chunks = response[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
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
        let chunk: IteratorResult<Buffer>;
        try {
          chunk = await Promise.race([chunks.next(), idle]);
        } catch (error) {
          throw this.failure ?? this.#abort(networkError(displayUrl, error, this.#received));
        } finally {
          clearTimeout(timer);
        }
        if (chunk.done) {
          // A response cut short (the server died mid-body) ends without an error on some paths.
          if (!response.complete) {
            throw this.#abort(
              networkError(displayUrl, new Error("the response ended early"), this.#received),
            );
          }
          return;
        }
        this.#received += chunk.value.length;
        if (this.#received > maxBytes) throw this.#abort(this.#quota());
        yield chunk.value;
      }
    } finally {
      if (!response.complete) response.destroy();
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
