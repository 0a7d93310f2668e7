/**
 * Keeps Miniflare's Node proxy of the R2 binding in step under CPU load: installed for every
 * mount-r2 test file by the project's setup file (test/vitest-setup.ts).
 *
 * Why: the proxy answers a synchronous call (every property read of a proxied object, such as a
 * listed object's `key` or `size`, and the first call of each method) through a worker thread.
 * The caller stores 0 in a one-word flag, posts the request and blocks in `Atomics.wait(flag, 0,
 * 0)`; the worker posts the reply, stores 1 and then notifies (miniflare 4.20260426.0,
 * `SynchronousFetcher` in dist/src/index.js). When the worker is preempted between its store and
 * its notify, the caller sees 1 without sleeping, finishes that call, starts the next one and
 * sleeps again: the late notify wakes it before the next reply exists, `assert(message?.id === id)`
 * fails (`AssertionError: false == true`), and from then on every call of that Miniflare reads the
 * previous call's reply and fails the same way. Fixed upstream (cloudflare/workers-sdk PR 15552,
 * September 2026) in releases that need Node 22; this repository stays on Node 20.
 *
 * What: a wait woken while the flag still holds the value it waits for is a wake-up meant for an
 * earlier call, so it waits again (the loop every futex user writes). Only untimed waits on a
 * one-word `Int32Array` over a `SharedArrayBuffer` (the handle's shape) are re-armed; every other
 * wait is passed through unchanged. Node's own internals keep the original `Atomics.wait`.
 */

const installed = Symbol.for("ws.mount-r2.atomics-wait-guard");

type Wait = (
  typedArray: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => "ok" | "not-equal" | "timed-out";

/** `Atomics.wait` as it was before the guard (for the test that shows the race without it). */
export const unguardedWait: Wait =
  ((Atomics as unknown as Record<symbol, unknown>)[installed] as Wait | undefined) ??
  Atomics.wait.bind(Atomics);

/** True when `Atomics.wait` re-arms a wait woken with its value unchanged (`guardAtomicsWait()` ran). */
export function atomicsWaitGuarded(): boolean {
  return (Atomics as unknown as Record<symbol, unknown>)[installed] !== undefined;
}

/** Re-arms untimed waits on one-word shared flags that a stray notify woke. Idempotent. */
export function guardAtomicsWait(): void {
  if (atomicsWaitGuarded()) return;
  const wait = unguardedWait;
  // BigInt64Array waits are passed through untouched, whatever this signature says.
  const guarded: Wait = (typedArray, index, value, timeout) => {
    const oneWordFlag =
      typedArray instanceof Int32Array &&
      typedArray.length === 1 &&
      typedArray.buffer instanceof SharedArrayBuffer &&
      (timeout === undefined || timeout === Number.POSITIVE_INFINITY);
    if (!oneWordFlag) return wait(typedArray, index, value, timeout);
    let woke: ReturnType<Wait>;
    do {
      woke = wait(typedArray, index, value);
    } while (woke === "ok" && Atomics.load(typedArray, index) === value);
    return woke;
  };
  Object.defineProperty(Atomics, "wait", { value: guarded, writable: true, configurable: true });
  // The original is kept under the marker, so a second copy of this module finds it.
  Object.defineProperty(Atomics, installed, { value: wait });
}
