/**
 * The mount's own bound on one SDK request, so that a client passed in (which may have no timeout
 * at all: the SDK's default handler has none) never leaves a read pending forever: an abort signal
 * for the request until its answer starts, then an idle timer on the body that destroys the stream
 * when no byte arrived for `timeoutMs`. Every chunk restarts the clock (`touch`).
 */
export class RequestTimer {
  readonly #controller = new AbortController();
  readonly #ms: number;
  readonly #what: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #body: { destroy(error?: Error): unknown } | undefined;

  constructor(ms: number, what: string) {
    this.#ms = ms;
    this.#what = what;
    this.#arm();
  }

  /** Give this to `client.send(command, { abortSignal })`. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The answer started: from now on the body's idle time counts. */
  body(stream: unknown): void {
    if (stream && typeof (stream as { destroy?: unknown }).destroy === "function") {
      this.#body = stream as { destroy(error?: Error): unknown };
    }
    this.#arm();
  }

  /** Some bytes arrived. */
  touch(): void {
    this.#arm();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#fire(), this.#ms);
  }

  #fire(): void {
    this.#timer = undefined;
    const error = new RequestTimeout(this.#ms, this.#what);
    this.#controller.abort(error);
    this.#body?.destroy(error);
  }
}

/**
 * No answer or no body byte for `timeoutMs`. Its name is deliberately not one the SDK's retry
 * strategy knows, so a client passed in does not retry an abort it cannot recover from (the signal
 * stays aborted); the mount classifies it transient and its one retry layer tries again.
 */
export class RequestTimeout extends Error {
  override readonly name = "RequestStalled";
  readonly timeoutMs: number;

  constructor(ms: number, what: string) {
    super(`${what}: no answer from the server for ${ms} ms (timeoutMs)`);
    this.timeoutMs = ms;
  }
}

/** The RequestTimeout behind an SDK AbortError (or the error itself), else undefined. */
export function requestTimeoutOf(error: unknown): RequestTimeout | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && typeof e === "object" && e !== null; depth++) {
    if (e instanceof RequestTimeout) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
