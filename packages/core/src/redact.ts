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
