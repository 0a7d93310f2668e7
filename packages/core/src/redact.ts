/**
 * Replaces every occurrence of each secret in `text` with `[redacted]`. Providers run their error
 * messages through this before wrapping them, so a token or key never reaches a log.
 */
export function redact(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    // Very short strings would redact ordinary words; real secrets are longer than this.
    if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out;
}

/**
 * Scrubs every secret from an error's message and stack, and from its cause chain (and an
 * AggregateError's errors), in place. Returns the same error. Strings thrown as errors are
 * returned redacted.
 */
export function redactError<E>(error: E, secrets: Iterable<string | undefined>): E {
  const list = [...secrets].filter((s): s is string => typeof s === "string" && s.length >= 4);
  if (list.length === 0) return error;
  if (typeof error === "string") return redact(error, list) as E;
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== "object" || value === null || seen.has(value) || depth > 16) return;
    seen.add(value);
    const e = value as { message?: unknown; stack?: unknown; cause?: unknown; errors?: unknown };
    try {
      if (typeof e.message === "string") e.message = redact(e.message, list);
      if (typeof e.stack === "string") e.stack = redact(e.stack, list);
      if (typeof e.cause === "string") e.cause = redact(e.cause, list);
    } catch {
      // A frozen error cannot be scrubbed in place; its cause chain may still be.
    }
    visit(e.cause, depth + 1);
    if (Array.isArray(e.errors)) for (const inner of e.errors) visit(inner, depth + 1);
  };
  visit(error, 0);
  return error;
}
