import { invalid } from "@ws/core";

/**
 * Provider option parsing with one kind of failure: `EINVAL` naming the option, the value received
 * and what is allowed, thrown when the mount is constructed (not at the first request).
 */

const show = (value: unknown): string =>
  typeof value === "string"
    ? JSON.stringify(value)
    : typeof value === "function"
      ? "a function"
      : String(value);

export interface IntegerOptionBounds {
  readonly default: number;
  readonly min?: number | undefined;
  readonly max?: number | undefined;
}

/** A safe integer within `[min, max]`; `default` when `undefined`. */
export function integerOption(name: string, value: unknown, bounds: IntegerOptionBounds): number {
  if (value === undefined) return bounds.default;
  const min = bounds.min ?? Number.MIN_SAFE_INTEGER;
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    const range =
      bounds.max === undefined
        ? bounds.min === undefined
          ? "an integer"
          : `an integer >= ${min}`
        : bounds.min === undefined
          ? `an integer <= ${max}`
          : `an integer from ${min} to ${max}`;
    throw invalid(`${name} must be ${range}, got ${show(value)}`);
  }
  return value;
}

/** One of `allowed`; `fallback` when `undefined`. */
export function enumOption<const T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw invalid(
      `${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${show(value)}`,
    );
  }
  return value as T;
}

export interface StringOptionRules {
  /** Returned for `undefined`. Without it, the option is required. */
  readonly default?: string | undefined;
  /** Refuse `""` (default true). */
  readonly nonEmpty?: boolean | undefined;
  readonly pattern?: RegExp | undefined;
}

/** A string; required unless `rules.default` is given. */
export function stringOption(name: string, value: unknown, rules: StringOptionRules = {}): string {
  if (value === undefined && rules.default !== undefined) return rules.default;
  if (typeof value !== "string") throw invalid(`${name} must be a string, got ${show(value)}`);
  if ((rules.nonEmpty ?? true) && value === "") throw invalid(`${name} must be a non-empty string, got ""`);
  if (rules.pattern && !rules.pattern.test(value)) {
    throw invalid(`${name} must match ${String(rules.pattern)}, got ${show(value)}`);
  }
  return value;
}

/** `true` or `false`; `fallback` when `undefined`. */
export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw invalid(`${name} must be true or false, got ${show(value)}`);
  return value;
}

export interface UrlOptionRules {
  /** Allowed protocols, with the colon. Default `["http:", "https:"]`. */
  readonly protocols?: readonly string[] | undefined;
}

/** An absolute URL with an allowed protocol and no credentials in it (they would leak into messages). */
export function urlOption(name: string, value: unknown, rules: UrlOptionRules = {}): URL {
  const protocols = rules.protocols ?? ["http:", "https:"];
  let url: URL;
  try {
    url = new URL(value instanceof URL ? value.href : String(value));
  } catch {
    throw invalid(`${name} must be an absolute URL (${protocols.join(" or ")}), got ${show(value)}`);
  }
  if (typeof value !== "string" && !(value instanceof URL)) {
    throw invalid(`${name} must be a URL string, got ${show(value)}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw invalid(`${name} must use ${protocols.join(" or ")}, got ${url.protocol}`);
  }
  if (url.username !== "" || url.password !== "") {
    // The URL itself is not echoed: it holds a credential.
    throw invalid(`${name} must not carry a user name or password; pass credentials in their own option`);
  }
  return url;
}
