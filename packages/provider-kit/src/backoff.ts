export interface BackoffOptions {
  /** The first retry waits up to this long. Default 100 ms. */
  readonly baseMs?: number | undefined;
  /** No wait is longer than this. Default 20 000 ms. */
  readonly maxMs?: number | undefined;
  /** The server asked for this wait (Retry-After): it is used instead, capped at `maxMs`. */
  readonly retryAfterMs?: number | undefined;
  /** A number in [0, 1). Default `Math.random`. */
  readonly random?: (() => number) | undefined;
}

/**
 * The wait before retry number `attempt` (1 for the first retry): "full jitter", a uniform
 * random wait between 0 and min(maxMs, baseMs × 2^(attempt-1)), so clients that failed together
 * do not retry together. A Retry-After from the server wins (capped at `maxMs`).
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const baseMs = options.baseMs ?? 100;
  const maxMs = options.maxMs ?? 20_000;
  if (
    options.retryAfterMs !== undefined &&
    Number.isFinite(options.retryAfterMs) &&
    options.retryAfterMs >= 0
  ) {
    return Math.min(options.retryAfterMs, maxMs);
  }
  const exponent = Math.min(Math.max(attempt, 1) - 1, 52);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  const random = options.random ?? Math.random;
  return Math.floor(random() * ceiling);
}

/**
 * A `Retry-After` header in milliseconds: delay-seconds (`"120"`) or an HTTP date. `undefined`
 * when absent or unreadable; 0 for a date in the past.
 */
export function parseRetryAfter(
  header: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  if (text === "") return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date has a weekday and a month name; Date.parse would accept "-5" as a year.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
