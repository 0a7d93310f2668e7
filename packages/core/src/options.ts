import { invalid } from "./errors.js";
import type { MountMode, MountOptions, WriteBackMode } from "./types.js";

/** Every common option with its default applied. */
export interface ResolvedMountOptions {
  readonly mode: MountMode;
  readonly ignore: readonly string[];
  readonly writeBack: WriteBackMode;
  readonly writeBackMs: number;
  /** `Infinity` when unbounded. */
  readonly maxBytes: number;
  /** `Infinity` when unbounded. */
  readonly maxEntries: number;
}

export const DEFAULT_MOUNT_OPTIONS: ResolvedMountOptions = Object.freeze({
  mode: "read-only",
  ignore: Object.freeze([]) as readonly string[],
  writeBack: "debounce",
  writeBackMs: 500,
  maxBytes: Number.POSITIVE_INFINITY,
  maxEntries: Number.POSITIVE_INFINITY,
});

function limit(name: string, value: number | undefined): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0 || !Number.isInteger(value)) {
    if (value !== Number.POSITIVE_INFINITY) {
      throw invalid(`${name} must be a non-negative integer, got ${String(value)}`);
    }
  }
  return value;
}

/**
 * Applies defaults and rejects values that can never work (`EINVAL`), so a typo fails at
 * construction rather than at the first write.
 */
export function resolveMountOptions(options: MountOptions = {}): ResolvedMountOptions {
  const mode = options.mode ?? DEFAULT_MOUNT_OPTIONS.mode;
  if (mode !== "read-only" && mode !== "read-write") {
    throw invalid(`mode must be "read-only" or "read-write", got ${JSON.stringify(mode)}`);
  }
  const writeBack = options.writeBack ?? DEFAULT_MOUNT_OPTIONS.writeBack;
  if (writeBack !== "debounce" && writeBack !== "manual") {
    throw invalid(`writeBack must be "debounce" or "manual", got ${JSON.stringify(writeBack)}`);
  }
  const writeBackMs = options.writeBackMs ?? DEFAULT_MOUNT_OPTIONS.writeBackMs;
  if (typeof writeBackMs !== "number" || !Number.isFinite(writeBackMs) || writeBackMs < 0) {
    throw invalid(`writeBackMs must be a finite number of milliseconds >= 0, got ${String(writeBackMs)}`);
  }
  const ignore = options.ignore ?? DEFAULT_MOUNT_OPTIONS.ignore;
  if (!Array.isArray(ignore) || ignore.some((p) => typeof p !== "string")) {
    throw invalid("ignore must be an array of strings");
  }
  return {
    mode,
    ignore,
    writeBack,
    writeBackMs,
    maxBytes: limit("maxBytes", options.maxBytes),
    maxEntries: limit("maxEntries", options.maxEntries),
  };
}

/**
 * The common options out of a provider's options object, so `mount.options` carries only what the
 * host applies and never provider configuration (which may hold credentials).
 */
export function pickMountOptions(options: MountOptions): MountOptions {
  const out: { -readonly [K in keyof MountOptions]: MountOptions[K] } = {};
  if (options.mode !== undefined) out.mode = options.mode;
  if (options.ignore !== undefined) out.ignore = options.ignore;
  if (options.writeBack !== undefined) out.writeBack = options.writeBack;
  if (options.writeBackMs !== undefined) out.writeBackMs = options.writeBackMs;
  if (options.maxBytes !== undefined) out.maxBytes = options.maxBytes;
  if (options.maxEntries !== undefined) out.maxEntries = options.maxEntries;
  if (options.onDiagnostic !== undefined) out.onDiagnostic = options.onDiagnostic;
  return out;
}
