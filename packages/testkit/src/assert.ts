import { createHash } from "node:crypto";

/**
 * Runner-independent assertions. The catalogue must not import vitest (or any runner), so a
 * provider can run it under node:test, mocha or a plain script; these throw plain errors that
 * every runner reports as a failure.
 */
export class ConformanceAssertionError extends Error {
  override readonly name: string = "ConformanceAssertionError";
}

export function fail(message: string): never {
  throw new ConformanceAssertionError(message);
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) fail(message);
}

/**
 * JSON with every object's keys sorted, so two objects built from listings in different orders
 * compare equal: a provider may return entries in any order (the contract promises none).
 * Arrays keep their order; cases that compare lists sort them first (`sorted`).
 */
function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return `<${v.length} bytes sha256:${sha256(v).slice(0, 12)}>`;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) out[k] = (v as Record<string, unknown>)[k];
      return out;
    }
    return v;
  });
}

/**
 * Deep equality through JSON, which is exact for the plain data the cases compare. Independent
 * of object key order (keys are sorted); array order counts.
 */
export function checkEqual(actual: unknown, expected: unknown, message: string): void {
  const a = show(actual);
  const e = show(expected);
  if (a !== e) fail(`${message}\n  expected: ${e}\n  actual:   ${a}`);
}

/** Sorted copy, by UTF-16 code units, so listings compare independently of the backend's order. */
export function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function checkBytes(actual: unknown, expected: Uint8Array, message: string): void {
  check(actual instanceof Uint8Array, `${message}: expected a Uint8Array, got ${describe(actual)}`);
  if (!sameBytes(actual, expected)) {
    fail(
      `${message}: bytes differ (expected ${expected.length} bytes sha256 ${sha256(expected).slice(0, 16)}, ` +
        `got ${actual.length} bytes sha256 ${sha256(actual).slice(0, 16)})`,
    );
  }
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length})`;
  if (Array.isArray(value)) return `array(${value.length})`;
  return typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
}

/** The subset of an error the contract requires: a POSIX-style `code` and the `path`. */
export interface CaughtError {
  readonly code: string;
  readonly path: unknown;
  readonly message: string;
  readonly error: unknown;
}

/**
 * Awaits `operation` and returns the error it rejects with, checking that the error carries a
 * `code` (one of `codes` when given) and a string `path`. Fails when the operation succeeds.
 */
export async function rejects(
  operation: () => Promise<unknown> | unknown,
  codes: readonly string[] | undefined,
  what: string,
): Promise<CaughtError> {
  let value: unknown;
  try {
    value = await operation();
  } catch (error) {
    const e = error as { code?: unknown; path?: unknown; message?: unknown } | null;
    const code = typeof e?.code === "string" ? e.code : undefined;
    const message = typeof e?.message === "string" ? e.message : String(error);
    check(code !== undefined, `${what}: the error has no string \`code\` (${message})`);
    if (codes) {
      check(codes.includes(code), `${what}: expected ${codes.join(" or ")}, got ${code} (${message})`);
    }
    check(typeof e?.path === "string", `${what}: the ${code} error has no \`path\` (${message})`);
    return { code, path: e?.path, message, error };
  }
  return fail(
    `${what}: expected ${codes ? codes.join(" or ") : "an error"}, but it succeeded with ${describe(value)}`,
  );
}
