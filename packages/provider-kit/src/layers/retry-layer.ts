import { isTransient, MountError, markPersistent, mountTraits } from "@ws/core";
import { backoffDelay } from "../backoff.js";
import { interceptMount, type LayeredOperation, type MountLayer, trackAttempts } from "./wrap-mount.js";

/** One failed attempt that will be retried. */
export interface RetryAttempt {
  readonly root: string;
  readonly op: LayeredOperation;
  readonly path: string;
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  readonly error: MountError;
  /** The wait before the next attempt. */
  readonly delayMs: number;
}

export interface RetryLayerOptions {
  /** Attempts in all, the first included. Default 4; 1 turns retrying off. */
  readonly attempts?: number | undefined;
  /** See `backoffDelay`. Default 100 ms. */
  readonly baseMs?: number | undefined;
  /** See `backoffDelay`. Default 20 000 ms. */
  readonly maxMs?: number | undefined;
  /** Told of every failed attempt that is about to be retried. */
  readonly onAttempt?: ((attempt: RetryAttempt) => void) | undefined;
  /** For tests: the random source of the jitter and the sleep. */
  readonly random?: (() => number) | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
}

// Set on a mount that already carries a retry layer: a second retry layer does not wrap it again
// (that would multiply attempts) but adds its listener here, so its attempts are still reported.
const RETRY_HOOK = Symbol.for("@ws/provider-kit/retry-hook");

interface RetryHook {
  readonly listeners: Set<(attempt: RetryAttempt) => void>;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries transient failures (`MountError.transient`), reads and writes alike, with full-jitter
 * back-off that honours a Retry-After carried on the error. When it gives up, the error is marked
 * persistent (`markPersistent`): its message says how many attempts were made and no outer layer
 * retries it again. Non-transient errors pass through at once. A mount defined with
 * `retries: "client"` (its client library retries by itself) is returned unchanged, and so is a
 * mount that already carries a retry layer (its attempts are reported to `onAttempt` too). Eager
 * `materialize` is not retried: a second run would write into the same staging.
 */
export function retryLayer(options: RetryLayerOptions = {}): MountLayer {
  const attempts = options.attempts ?? 4;
  if (!Number.isSafeInteger(attempts) || attempts < 1) {
    throw new MountError("EINVAL", `retry attempts must be an integer >= 1, got ${String(options.attempts)}`);
  }
  const sleep = options.sleep ?? defaultSleep;
  return (mount, { root }) => {
    const existing = (mount as unknown as Record<symbol, RetryHook | undefined>)[RETRY_HOOK];
    if (existing) {
      // A provider that applied the retry layer to itself (S3Bucket does, with its own attempts).
      const listener = options.onAttempt;
      if (listener) existing.listeners.add((attempt) => listener({ ...attempt, root }));
      return mount;
    }
    if (mountTraits(mount)?.retries === "client") return mount;
    const hook: RetryHook = { listeners: new Set() };
    const report = (attempt: RetryAttempt): void => {
      for (const listener of [options.onAttempt, ...hook.listeners]) {
        try {
          listener?.(attempt);
        } catch {
          // A failing listener must not change what the mount does.
        }
      }
    };
    const wrapped = interceptMount(mount, (op, path, call) => {
      if (op === "materialize") return call();
      const state = { attempts: 0 };
      const run = async () => {
        for (;;) {
          state.attempts++;
          try {
            return await call();
          } catch (error) {
            if (!isTransient(error)) throw error;
            const failure = error as MountError;
            if (state.attempts >= attempts) throw markPersistent(failure, state.attempts);
            const delayMs = backoffDelay(state.attempts, {
              baseMs: options.baseMs,
              maxMs: options.maxMs,
              retryAfterMs: failure.retryAfterMs,
              random: options.random,
            });
            report({ root, op, path, attempt: state.attempts, error: failure, delayMs });
            await sleep(delayMs);
          }
        }
      };
      const promise = run();
      trackAttempts(promise, () => state.attempts);
      return promise;
    });
    Object.defineProperty(wrapped, RETRY_HOOK, { value: hook, enumerable: false });
    return wrapped;
  };
}
