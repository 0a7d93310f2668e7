import { isTransient, MountError, markPersistent, mountTraits } from "@ws/core";
import { backoffDelay } from "../backoff.js";
import { interceptMount, type LayeredOperation, type MountLayer } from "./wrap-mount.js";

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

// The attempt counter of each call in flight, keyed by the promise the layer returned, so the
// observe layer outside can report how many attempts a call took without any shared context.
const attemptsByCall = new WeakMap<Promise<unknown>, { attempts: number }>();

/** Attempts made so far by the call that returned `promise` (1 when no retry layer saw it). */
export function attemptsOf(promise: Promise<unknown>): number {
  return attemptsByCall.get(promise)?.attempts ?? 1;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries transient failures (`MountError.transient`), reads and writes alike, with full-jitter
 * back-off that honours a Retry-After carried on the error. When it gives up, the error is marked
 * persistent (`markPersistent`): its message says how many attempts were made and no outer layer
 * retries it again. Non-transient errors pass through at once. A mount defined with
 * `retries: "client"` (its client library retries by itself) is returned unchanged. Eager
 * `materialize` is not retried: a second run would write into the same staging.
 */
export function retryLayer(options: RetryLayerOptions = {}): MountLayer {
  const attempts = options.attempts ?? 4;
  if (!Number.isSafeInteger(attempts) || attempts < 1) {
    throw new MountError("EINVAL", `retry attempts must be an integer >= 1, got ${String(options.attempts)}`);
  }
  const sleep = options.sleep ?? defaultSleep;
  return (mount, { root }) => {
    if (attempts === 1 || mountTraits(mount)?.retries === "client") return mount;
    return interceptMount(mount, (op, path, call) => {
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
            try {
              options.onAttempt?.({ root, op, path, attempt: state.attempts, error: failure, delayMs });
            } catch {
              // A failing listener must not change what the mount does.
            }
            await sleep(delayMs);
          }
        }
      };
      const promise = run();
      attemptsByCall.set(promise, state);
      return promise;
    });
  };
}
